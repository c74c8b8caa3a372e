import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Search attributes on decision workflows, so ops can find decisions in the Temporal UI or with
 * `temporal workflow list --query "MmmTenantId='demo' AND MmmOutcome='shown'"`.
 */
export const TENANT_ID_ATTR = defineSearchAttributeKey('MmmTenantId', 'KEYWORD');
export const ACTOR_ID_ATTR = defineSearchAttributeKey('MmmActorId', 'KEYWORD');
export const SURFACE_ATTR = defineSearchAttributeKey('MmmSurface', 'KEYWORD');
export const OUTCOME_ATTR = defineSearchAttributeKey('MmmOutcome', 'KEYWORD');

export const SEARCH_ATTRIBUTES = [TENANT_ID_ATTR, ACTOR_ID_ATTR, SURFACE_ATTR, OUTCOME_ATTR];

/** The dev server's `--search-attribute Name=Type` spelling. */
export const DEV_SERVER_SEARCH_ATTRIBUTES = SEARCH_ATTRIBUTES.map((k) => ({ name: k.name, type: 'Keyword' as const }));
