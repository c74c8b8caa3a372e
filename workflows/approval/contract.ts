import { z } from 'zod';
import { APPROVAL_STATUSES } from '../../domain/approval/approval-rules';

export * from './messages';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be the action_digest shown with the action (sha256:…)');

/** POST /v1/mmm/actions/{action_id}/consent: consent (the default) or decline, optionally bound to the digest seen. */
export const consentBodySchema = z.strictObject({
  decision: z.enum(['consent', 'decline']).default('consent'),
  action_digest: digest.optional(),
});

/** POST /v1/mmm/actions/{action_id}/approve. */
export const approveBodySchema = z.strictObject({
  channel: z.string().min(1).max(32).regex(/^[a-z][a-z0-9_-]*$/, 'must be a lower_snake_case channel name such as slack, email or web'),
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(1000).optional(),
  action_digest: digest.optional(),
});

export const approvalStatusSchema = z.object({
  action_id: z.string(),
  decision_id: z.string(),
  status: z.enum(APPROVAL_STATUSES),
  action_digest: z.string(),
  required_approvals: z.number().int(),
  consented_at: z.string().nullable(),
  approvals: z.array(
    z.object({ approver_id: z.string(), channel: z.string(), decision: z.enum(['approve', 'reject']), at: z.string(), comment: z.string().nullable() }),
  ),
  expires_at: z.string(),
  execution: z
    .object({ target: z.enum(['edge_agent', 'ci']), via: z.enum(['service', 'outbox']), execution_id: z.string().nullable(), status: z.string(), idempotency_key: z.string() })
    .nullable(),
  failure_reason: z.string().nullable(),
});
