import { z } from 'zod';
import { ValidationError } from '../../domain/errors';
import { decideRequestSchema, decisionSchema, outcomeInputSchema } from '../../domain/model/decision';
import { idSchema } from '../../domain/model/common';
import type { DecisionRepository } from '../../db/repositories/decision-repository';
import type { ReceiptLedger } from '../../db/repositories/receipt-ledger';
import { receiptSchema } from '../../domain/model/receipt';
import type { Metrics } from '../../observability/metrics';
import { ADMIN_ROLES, hasAnyRole, requireSelfOr, requireTenant } from '../auth';
import type { DecideService } from '../decide-service';
import { defineRoute } from '../route';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const READERS = ['service', 'approver', ...ADMIN_ROLES];

export function decisionRoutes(deps: { decide: DecideService; decisions: DecisionRepository; ledger: ReceiptLedger; metrics: Metrics }) {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/mmm/decide',
      summary: 'Decide (an Update into the actor\'s decision shard workflow) and return the decision',
      tag: 'decisions',
      access: 'a `service` token of the tenant, or the actor themself',
      body: decideRequestSchema,
      headers: [{ name: 'Idempotency-Key', description: 'a retried request with the same key returns the same decision' }],
      response: decisionSchema,
      async handler({ body, auth, req }) {
        const receivedAtMs = Date.now();
        requireTenant(auth, body.tenant_id);
        if (!hasAnyRole(auth, ['service'])) requireSelfOr(auth, body.actor_id, ['service']);
        const key = req.header('idempotency-key') ?? null;
        if (key !== null && !IDEMPOTENCY_KEY.test(key))
          throw new ValidationError('the Idempotency-Key header is not valid', [{ field: 'Idempotency-Key', message: '1-200 printable ASCII characters' }], 400);
        const { decision, replayed } = await deps.decide.decide(body, {
          idempotencyKey: key,
          actorRoles: auth.sub === body.actor_id ? auth.roles : [],
          receivedAtMs,
        });
        // Counted by the decide service (decide-service.ts), so decisions made from bus signals are counted too.
        return { body: decision, headers: { 'Idempotent-Replayed': String(replayed) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/mmm/decisions/:decision_id',
      summary: 'The stored decision with its actions and its signed receipt',
      tag: 'decisions',
      access: 'the tenant: the actor themself, `service`, `approver` or an admin',
      params: z.object({ decision_id: idSchema }),
      response: decisionSchema.extend({ receipt: receiptSchema }),
      async handler({ params, auth }) {
        const decision = await deps.decisions.get(auth.tenant_id, params.decision_id);
        requireSelfOr(auth, decision.actor_id, READERS);
        return { body: { ...decision, receipt: await deps.ledger.get(auth.tenant_id, decision.receipt_id) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/mmm/decisions/:decision_id/outcomes',
      summary: "Record what the actor did with an action",
      tag: 'decisions',
      access: 'the tenant: the actor themself, `service` or an admin',
      params: z.object({ decision_id: idSchema }),
      body: outcomeInputSchema,
      status: 201,
      response: z.object({ decision_id: z.string(), action_id: z.string(), outcome: z.string(), recorded_at: z.string() }),
      async handler({ params, body, auth }) {
        const decision = await deps.decisions.get(auth.tenant_id, params.decision_id);
        requireSelfOr(auth, decision.actor_id, ['service', ...ADMIN_ROLES]);
        return { body: await deps.decisions.recordOutcome(auth.tenant_id, params.decision_id, body.action_id, body.outcome, auth.sub) };
      },
    }),
  ];
}
