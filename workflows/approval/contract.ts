import { z } from 'zod';
import { APPROVAL_STATUSES } from '../../domain/approval/approval-rules';
import { text, timestampSchema } from '../../domain/model/common';

export * from './messages';

const digest = text(/^sha256:[0-9a-f]{64}$/, 'must be the action_digest shown with the action (sha256:…)');

/** POST /v1/mmm/actions/{action_id}/consent: consent (the default) or decline, optionally bound to the digest seen. */
export const consentBodySchema = z.strictObject({
  decision: z.enum(['consent', 'decline']).default('consent'),
  action_digest: digest.optional(),
});

/** POST /v1/mmm/actions/{action_id}/approve. */
export const approveBodySchema = z.strictObject({
  channel: text(/^[a-z][a-z0-9_-]*$/, 'must be a lower_snake_case channel name such as slack, email or web').min(1).max(32),
  decision: z.enum(['approve', 'reject']),
  comment: text().max(1000).optional(),
  action_digest: digest.optional(),
});

export const approvalStatusSchema = z.object({
  action_id: text(),
  decision_id: text(),
  status: z.enum(APPROVAL_STATUSES),
  action_digest: text(),
  required_approvals: z.number().int(),
  consented_at: timestampSchema.nullable(),
  approvals: z.array(
    z.object({ approver_id: text(), channel: text(), decision: z.enum(['approve', 'reject']), at: timestampSchema, comment: text().nullable() }),
  ),
  expires_at: timestampSchema,
  execution: z
    .object({ target: z.enum(['edge_agent', 'ci']), via: z.enum(['service', 'outbox']), execution_id: text().nullable(), status: text(), idempotency_key: text() })
    .nullable(),
  failure_reason: text().nullable(),
});
