import { ValidationError } from '../domain/errors';
import type { DecideRequest } from '../domain/model/decision';
import { filterDecideRequest, refusalMessage, type GovernanceFields } from '../domain/privacy/privacy-filter';
import { withTimeout } from './with-timeout';

/** The tenant's data governance fields, or null when no data governance service is configured. */
export type GovernanceLookup = (tenantId: string) => Promise<GovernanceFields | null>;

export type DecidePrivacyFilter = (request: DecideRequest) => Promise<{ request: DecideRequest; droppedFields: string[] }>;

/** CONTRACT.md: data governance answers within 0.5 s. */
const GOVERNANCE_BUDGET_MS = 500;
/** When the tenant's allow-list cannot be read, nothing optional is kept: minimisation is the safe side (ADR 0013). */
const NOTHING_OPTIONAL: GovernanceFields = { allowed_fields: [] };

/**
 * The privacy filter in front of the decide service, for both ways a decide request comes in (HTTP and the bus), so
 * nothing it removes reaches the workflow's history, the decision row, the rendered text or the receipt. A refusal
 * is a 422 naming the field and why, never the value.
 */
export function createDecidePrivacyFilter(deps: { governance?: GovernanceLookup } = {}): DecidePrivacyFilter {
  return async (request) => {
    let governance: GovernanceFields | undefined;
    if (deps.governance) {
      const lookup = deps.governance(request.tenant_id);
      governance = (await withTimeout(lookup, GOVERNANCE_BUDGET_MS).catch(() => NOTHING_OPTIONAL)) ?? undefined;
    }
    const filtered = filterDecideRequest(request, governance);
    if (!filtered.ok)
      throw new ValidationError('the request holds a value that is not accepted', [{ field: filtered.field, message: refusalMessage(filtered.reason) }]);
    return { request: filtered.request, droppedFields: filtered.dropped_fields };
  };
}
