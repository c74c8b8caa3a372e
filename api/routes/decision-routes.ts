import { z } from 'zod';
import { ValidationError } from '../../domain/errors';
import { decideRequestSchema, decisionSchema, outcomeInputSchema, outcomeReasonSchema } from '../../domain/model/decision';
import { idSchema, text, timestampSchema } from '../../domain/model/common';
import type { DecisionRepository } from '../../db/repositories/decision-repository';
import type { ReceiptLedger } from '../../db/repositories/receipt-ledger';
import { receiptSchema } from '../../domain/model/receipt';
import type { Metrics } from '../../observability/metrics';
import { ADMINS } from '../authorization';
import type { DecideService } from '../decide-service';
import { createDecidePrivacyFilter, type DecidePrivacyFilter } from '../../lib/decide-privacy';
import { defineRoute } from '../route';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The decision a route addresses, in the token's tenant; its actor owns it. */
function decisionOf(decisions: DecisionRepository) {
  return {
    load: ({ params, auth }: { params: { decision_id: string }; auth: { tenant_id: string } }) => decisions.get(auth.tenant_id, params.decision_id),
    owner: (d: { actor_id: string }) => d.actor_id,
  };
}

export function decisionRoutes(deps: {
  decide: DecideService;
  decisions: DecisionRepository;
  ledger: ReceiptLedger;
  metrics: Metrics;
  privacy?: DecidePrivacyFilter;
  /** Told of every recorded outcome (experiments count them toward an early recompute); its failure fails nothing. */
  onOutcome?: (decisionId: string) => Promise<void>;
}) {
  const privacy = deps.privacy ?? createDecidePrivacyFilter();
  return [
    defineRoute({
      method: 'post',
      path: '/v1/mmm/decide',
      summary: 'Decide (an Update into the actor\'s decision shard workflow) and return the decision',
      tag: 'decisions',
      // Admins and approvers do not decide for someone else: a decision is asked for by a surface or the actor.
      auth: { roles: ['service'], tenant: 'body', self: 'body' },
      body: decideRequestSchema,
      headers: [{ name: 'Idempotency-Key', description: 'a retried request with the same key returns the same decision', schema: text(IDEMPOTENCY_KEY) }],
      response: decisionSchema,
      async handler({ body, auth, req }) {
        const receivedAtMs = Date.now();
        const key = req.header('idempotency-key') ?? null;
        if (key !== null && !IDEMPOTENCY_KEY.test(key))
          throw new ValidationError('the Idempotency-Key header is not valid', [{ field: 'Idempotency-Key', message: '1-200 printable ASCII characters' }], 400);
        // The privacy filter before anything is handed on (ADR 0013): what it drops is named in dropped_fields.
        const { request, droppedFields } = await privacy(body);
        const { decision, replayed } = await deps.decide.decide(request, {
          idempotencyKey: key,
          droppedFields,
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
      auth: { roles: ['service', 'approver', ...ADMINS], tenant: 'token', self: 'resource' },
      params: z.object({ decision_id: idSchema }),
      resource: decisionOf(deps.decisions),
      response: decisionSchema.extend({ receipt: receiptSchema }),
      async handler({ resource: decision, auth }) {
        return { body: { ...decision, receipt: await deps.ledger.get(auth.tenant_id, decision.receipt_id) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/mmm/decisions/:decision_id/outcomes',
      summary: "Record what the actor did with an action; `reason: not_useful` with `dismissed` is the card's \"Not useful\"",
      tag: 'decisions',
      auth: { roles: ['service', ...ADMINS], tenant: 'token', self: 'resource' },
      params: z.object({ decision_id: idSchema }),
      resource: decisionOf(deps.decisions),
      body: outcomeInputSchema,
      status: 201,
      response: z.object({ decision_id: text(), action_id: text(), outcome: text(), reason: outcomeReasonSchema.nullable(), recorded_at: timestampSchema }),
      async handler({ params, body, auth }) {
        const recorded = await deps.decisions.recordOutcome(auth.tenant_id, params.decision_id, body.action_id, body.outcome, auth.sub, body.reason ?? null);
        await deps.onOutcome?.(params.decision_id).catch(() => undefined);
        return { body: recorded };
      },
    }),
  ];
}
