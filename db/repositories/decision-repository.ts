import { UniqueConstraintError, type Sequelize } from 'sequelize';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors';
import type { Decision, StoredDecision } from '../../domain/model/decision';
import type { Models } from '../models';
import { chainHeadOf, LOCK_HEAD_SQL, type ReceiptLedger } from './receipt-ledger';
import { inTransaction, literal, prepared, withConnection, type SqlValue } from '../direct-sql';
import { exposuresOf } from '../../domain/experiments/exposures';

/** The decision's experiment exposures, as a data-modifying CTE ahead of its INSERT (same statement, same snapshot). */
const EXPOSURES_CTE = `, exposures AS (
  INSERT INTO experiment_exposures (experiment_id, decision_id, tenant_id, arm_id, actor_id, holdout, shown, action_ids, created_at)
  SELECT e.experiment_id, :d_id, :d_tenant, e.arm_id, :d_actor, e.holdout, e.shown, ARRAY(SELECT jsonb_array_elements_text(e.action_ids)), CAST(:d_created AS timestamptz)
    FROM jsonb_to_recordset(CAST(:d_exposures AS jsonb)) AS e(experiment_id text, arm_id text, holdout boolean, shown boolean, action_ids jsonb)
  ON CONFLICT (experiment_id, decision_id) DO NOTHING)`;

export interface RecordDecision {
  decision: Omit<Decision, 'receipt_id'>;
  surface: string;
  idempotencyKey: string | null;
  requestSha256: string;
  receiptPayload: Record<string, unknown>;
  /** The shard workflow's run and the Update that recorded the decision (ADR 0012); absent for decideWorkflow runs. */
  recordedBy?: { workflowRunId: string | null; updateId: string };
}

export type { StoredDecision } from '../../domain/model/decision';

/** Decisions and their receipts are written in one transaction: there is never a decision without its receipt. */
export function createDecisionRepository(sequelize: Sequelize, models: Models, ledger: ReceiptLedger) {
  return {
    async record(input: RecordDecision): Promise<StoredDecision> {
      return (await this.recordMany([input]))[0];
    },

    /**
     * Decisions of one tenant, stored in order in one transaction (one chain lock, one look for earlier commits of the
     * same ids): a shard workflow's batch (ADR 0012). Each already stored (a retried activity, or another request
     * with the same Idempotency-Key) comes back as stored, with the request hash it was stored for.
     */
    async recordMany(inputs: RecordDecision[]): Promise<StoredDecision[]> {
      if (inputs.length === 0) return [];
      const tenantId = inputs[0].decision.tenant_id;
      if (inputs.some((i) => i.decision.tenant_id !== tenantId)) throw new Error('recordMany takes the decisions of one tenant');
      // Two round trips for the whole batch (ADR 0012, "Fewer round trips"): BEGIN with the chain lock and the look for
      // earlier commits, then every decision's insert with COMMIT. Each statement of a round trip gets its own
      // snapshot, so the look, taken after the lock is ours, sees a retried attempt that committed while we waited.
      const ids = inputs.map((i) => i.decision.decision_id);
      return inTransaction(sequelize, async (send) => {
        // Taking the chain lock first also serialises a retried activity behind its own earlier attempt.
        const [[headRow], existing] = await send([literal(LOCK_HEAD_SQL, { tenantId }), literal('SELECT decision_id, body, request_sha256 FROM decisions WHERE decision_id IN (:ids)', { ids })]);
        let head = chainHeadOf(headRow as { seq: string; last_hash: string | null });
        // A retried activity finds its own earlier commit and returns it: one decision, one receipt.
        const stored = new Map<string, StoredDecision>(
          (existing as Array<{ decision_id: string; body: Decision; request_sha256: string }>).map((r) => [r.decision_id, { decision: r.body, requestSha256: r.request_sha256 }]),
        );
        const out: StoredDecision[] = [];
        const statements: string[] = [];
        for (const input of inputs) {
          const prior = stored.get(input.decision.decision_id);
          if (prior) {
            out.push(prior);
            continue;
          }
          const decisionRow = (rid: string) => ({ ...input.decision, receipt_id: rid }) as Decision;
          // What experiments count (ADR 0017): written by the same statement as the decision and its receipt, so an
          // experiment adds no round trip to the decide path (the row is a CTE before the decision's INSERT).
          const exposures = exposuresOf(input.decision);
          const next = await ledger.nextReceipt(
            { tenantId, decisionId: input.decision.decision_id, kind: 'decision', payload: input.receiptPayload, createdAt: new Date(input.decision.created_at) },
            head,
            {
              sql: `${exposures.length > 0 ? EXPOSURES_CTE : ''}
                    INSERT INTO decisions (decision_id, tenant_id, actor_id, surface, outcome, idempotency_key, request_sha256, workflow_id,
                                           workflow_run_id, update_id, trace_id, receipt_id, latency_ms, body, created_at)
                    VALUES (:d_id, :d_tenant, :d_actor, :d_surface, :d_outcome, :d_idem, :d_sha, :d_wf, :d_run, :d_update, :d_trace, :receiptId, :d_latency,
                            jsonb_set(CAST(:d_body AS jsonb), '{receipt_id}', to_jsonb(CAST(:receiptId AS text))), :d_created)`,
              replacements: {
                d_id: input.decision.decision_id, d_tenant: tenantId, d_actor: input.decision.actor_id, d_surface: input.surface,
                d_outcome: input.decision.outcome, d_idem: input.idempotencyKey, d_sha: input.requestSha256,
                d_wf: input.decision.workflow_id, d_run: input.recordedBy?.workflowRunId ?? null, d_update: input.recordedBy?.updateId ?? null,
                d_trace: input.decision.trace_id ?? null,
                d_latency: input.decision.latency_ms,
                d_body: JSON.stringify(decisionRow('')), d_created: input.decision.created_at,
                ...(exposures.length > 0 ? { d_exposures: JSON.stringify(exposures) } : {}),
              },
            },
          );
          statements.push(literal(next.sql, next.replacements as Record<string, SqlValue>));
          // The next receipt of this batch chains onto this one (the row lock is still ours).
          head = next.next;
          const decision = { decision: decisionRow(next.receipt.receipt_id), requestSha256: input.requestSha256 };
          stored.set(decision.decision.decision_id, decision);
          out.push(decision);
        }
        await send(statements, { commit: true });
        return out;
      });
    },

    async get(tenantId: string, decisionId: string): Promise<Decision> {
      return (await this.getStored(tenantId, decisionId)).decision;
    },

    /** The decision with the hash of the request it was stored for. */
    async getStored(tenantId: string, decisionId: string): Promise<StoredDecision> {
      const row = await models.Decision.findByPk(decisionId);
      if (!row) throw new NotFoundError('decision', decisionId);
      if (row.get('tenant_id') !== tenantId) throw new ForbiddenError('forbidden_tenant', 'this decision belongs to another tenant');
      return { decision: row.get('body') as Decision, requestSha256: row.get('request_sha256') as string };
    },

    async findByIdempotencyKey(tenantId: string, key: string): Promise<StoredDecision | null> {
      // Every keyed decision (each bus signal's) asks this first: a prepared statement, as the context read.
      const statement = prepared('SELECT body, request_sha256 FROM decisions WHERE tenant_id = :tenantId AND idempotency_key = :key', { tenantId, key });
      const {
        rows: [row],
      } = await withConnection(sequelize, (c) => c.query<{ body: Decision; request_sha256: string }>(statement));
      return row ? { decision: row.body, requestSha256: row.request_sha256 } : null;
    },

    async recordOutcome(tenantId: string, decisionId: string, actionId: string, outcome: string, recordedBy: string, reason: string | null = null) {
      const decision = await this.get(tenantId, decisionId);
      if (!decision.actions.some((a) => a.action_id === actionId))
        throw new ValidationError('this decision has no such action', [{ field: 'action_id', message: `not an action of decision ${decisionId}` }]);
      try {
        // The decision's actor goes with the outcome, so tenant metrics can hold each cell to the minimum group size.
        const row = await models.DecisionOutcome.create({ tenant_id: tenantId, decision_id: decisionId, action_id: actionId, actor_id: decision.actor_id, outcome, reason, recorded_by: recordedBy });
        return { decision_id: decisionId, action_id: actionId, outcome, reason, recorded_at: (row.get('recorded_at') as Date).toISOString() };
      } catch (err) {
        // The unique index (migration 002) settles concurrent reports: exactly one is stored.
        if (err instanceof UniqueConstraintError) throw new ConflictError('outcome_already_recorded', 'an outcome for this action is already recorded');
        throw err;
      }
    },
  };
}
export type DecisionRepository = ReturnType<typeof createDecisionRepository>;
