import { QueryTypes, type Sequelize } from 'sequelize';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors';
import type { Decision } from '../../domain/model/decision';
import type { Models } from '../models';
import type { ReceiptLedger } from './receipt-ledger';

export interface RecordDecision {
  decision: Omit<Decision, 'receipt_id'>;
  surface: string;
  idempotencyKey: string | null;
  requestSha256: string;
  receiptPayload: Record<string, unknown>;
}

export interface StoredDecision {
  decision: Decision;
  requestSha256: string;
}

/** Decisions and their receipts are written in one transaction: there is never a decision without its receipt. */
export function createDecisionRepository(sequelize: Sequelize, models: Models, ledger: ReceiptLedger) {
  return {
    async record(input: RecordDecision): Promise<Decision> {
      return sequelize.transaction(async (transaction) => {
        // A retried activity finds its own earlier commit and returns it: one decision, one receipt.
        const existing = await models.Decision.findByPk(input.decision.decision_id, { transaction });
        if (existing) return existing.get('body') as Decision;
        const receipt = await ledger.append(
          {
            tenantId: input.decision.tenant_id,
            decisionId: input.decision.decision_id,
            kind: 'decision',
            payload: input.receiptPayload,
            createdAt: new Date(input.decision.created_at),
          },
          transaction,
        );
        const decision: Decision = { ...input.decision, receipt_id: receipt.receipt_id };
        await models.Decision.create(
          {
            decision_id: decision.decision_id, tenant_id: decision.tenant_id, actor_id: decision.actor_id,
            surface: input.surface, outcome: decision.outcome, idempotency_key: input.idempotencyKey,
            request_sha256: input.requestSha256, workflow_id: decision.workflow_id, receipt_id: receipt.receipt_id,
            latency_ms: decision.latency_ms, body: decision, created_at: new Date(decision.created_at),
          },
          { transaction },
        );
        return decision;
      });
    },

    async get(tenantId: string, decisionId: string): Promise<Decision> {
      const row = await models.Decision.findByPk(decisionId);
      if (!row) throw new NotFoundError('decision', decisionId);
      if (row.get('tenant_id') !== tenantId) throw new ForbiddenError('forbidden_tenant', 'this decision belongs to another tenant');
      return row.get('body') as Decision;
    },

    async findByIdempotencyKey(tenantId: string, key: string): Promise<StoredDecision | null> {
      const row = await models.Decision.findOne({ where: { tenant_id: tenantId, idempotency_key: key } });
      return row ? { decision: row.get('body') as Decision, requestSha256: row.get('request_sha256') as string } : null;
    },

    async recordOutcome(tenantId: string, decisionId: string, actionId: string, outcome: string, recordedBy: string) {
      const decision = await this.get(tenantId, decisionId);
      if (!decision.actions.some((a) => a.action_id === actionId))
        throw new ValidationError('this decision has no such action', [{ field: 'action_id', message: `not an action of decision ${decisionId}` }]);
      const [count] = await sequelize.query<{ n: string }>(
        'SELECT count(*) AS n FROM decision_outcomes WHERE decision_id = :decisionId AND action_id = :actionId',
        { replacements: { decisionId, actionId }, type: QueryTypes.SELECT },
      );
      if (Number(count?.n ?? 0) > 0) throw new ConflictError('outcome_already_recorded', 'an outcome for this action is already recorded');
      const row = await models.DecisionOutcome.create({ tenant_id: tenantId, decision_id: decisionId, action_id: actionId, outcome, recorded_by: recordedBy });
      return { decision_id: decisionId, action_id: actionId, outcome, recorded_at: (row.get('recorded_at') as Date).toISOString() };
    },
  };
}
export type DecisionRepository = ReturnType<typeof createDecisionRepository>;
