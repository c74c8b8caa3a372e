import { QueryTypes, type Sequelize } from 'sequelize';
import type { Decision } from '../../domain/model/decision';

export interface StoredEnrichment {
  tenant_id: string;
  decision_id: string;
  action_id: string;
  /** The fields of the action's payload to replace (title, body, rendered, rationale, enrichment). */
  payload: Record<string, unknown>;
  /** A reason the template stands that is a degradation, added to the decision's degraded_reasons. */
  degraded_reason: string | null;
}

/**
 * Writes a mentor action's enrichment into the stored decision, so `GET /v1/mmm/decisions/{id}` returns it. The row
 * is locked for the read-modify-write; applying the same enrichment twice (a retried activity) changes nothing more.
 */
export function createActionEnrichmentRepository(sequelize: Sequelize) {
  return {
    async apply(e: StoredEnrichment): Promise<boolean> {
      return sequelize.transaction(async (transaction) => {
        const [row] = await sequelize.query<{ body: Decision }>(
          'SELECT body FROM decisions WHERE decision_id = :id AND tenant_id = :tenant FOR UPDATE',
          { replacements: { id: e.decision_id, tenant: e.tenant_id }, transaction, type: QueryTypes.SELECT },
        );
        if (!row) return false;
        const body = row.body;
        const action = body.actions.find((a) => a.action_id === e.action_id);
        if (!action) return false;
        action.payload = { ...action.payload, ...(e.payload as Partial<Decision['actions'][number]['payload']>) };
        if (e.degraded_reason && !body.degraded_reasons.includes(e.degraded_reason)) body.degraded_reasons.push(e.degraded_reason);
        body.degraded_mode = body.degraded_reasons.length > 0;
        await sequelize.query('UPDATE decisions SET body = CAST(:body AS jsonb) WHERE decision_id = :id', {
          replacements: { id: e.decision_id, body: JSON.stringify(body) },
          transaction,
        });
        return true;
      });
    },
  };
}
export type ActionEnrichmentRepository = ReturnType<typeof createActionEnrichmentRepository>;
