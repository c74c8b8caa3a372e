import { z } from 'zod';
import { decideRequestSchema } from '../../domain/model/decision';

export { decideRequestSchema, decisionSchema, type Decision, type DecideRequest } from '../../domain/model/decision';

/** What the API hands the decision workflow: the validated request plus what only the API knows. */
export const decideWorkflowInputSchema = z.object({
  /**
   * Chosen by the API, derived from the Idempotency-Key when there is one: a run that failed and is retried under
   * the same key keeps its decision id, so the nudge slots it reserved are its own and not spent twice.
   */
  decision_id: z.string().regex(/^dec_[0-9a-f-]{32,36}$/),
  request: decideRequestSchema,
  /** Roles of the caller when the caller is the actor (context.actor_roles); empty for service callers. */
  actor_roles: z.array(z.string()),
  received_at_ms: z.number(),
  idempotency_key: z.string().nullable(),
  request_sha256: z.string(),
  /** Fields of the request the privacy filter removed before it reached the workflow (names only, ADR 0013). */
  dropped_fields: z.array(z.string()).optional(),
  /**
   * W3C `traceparent` of the span that sent the decision (ADR 0015), absent when nothing was traced. The batch's
   * activities run this decision's part under it, so the decision's trace holds its context reads and service calls.
   */
  traceparent: z.string().regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/).optional(),
});
export type DecideWorkflowInput = z.infer<typeof decideWorkflowInputSchema>;

export const DECIDE_WORKFLOW_TYPE = 'decideWorkflow';

export * from './messages';
