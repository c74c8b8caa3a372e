import crypto from 'node:crypto';
import { QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import { ConflictError, ForbiddenError, NotFoundError } from '../../domain/errors';
import type { ArmCounts } from '../../domain/experiments/allocation';
import type { SampleSummary } from '../../domain/experiments/effect';
import { experimentInputSchema, type ExperimentInput, type ExperimentStatus } from '../../domain/model/experiment';
import type { AuditLog } from './audit-log';

/** One stored experiment with its arms' state: what the use cases build results and allocations from. */
export interface StoredExperiment {
  experiment_id: string;
  tenant_id: string;
  status: ExperimentStatus;
  definition: ExperimentInput;
  created_at: string;
  updated_at: string;
  weights_updated_at: string | null;
  arms: ArmState[];
}

export interface ArmState {
  arm_id: string;
  current_weight: number;
  probability_best: number | null;
  paused_reason: string | null;
  paused_at: string | null;
}

/** What the Schedule writes back per arm: the new weight, and a pause when a guardrail has just been passed. */
export interface ArmUpdate {
  arm_id: string;
  current_weight: number;
  probability_best: number | null;
  pause?: string;
}

/** Who the audit log names for what the experiment Schedule decides on its own (an automatic pause). */
export const GUARDRAIL_ACTOR = 'system:experiment-guardrails';

interface Row {
  experiment_id: string;
  tenant_id: string;
  status: ExperimentStatus;
  definition: unknown;
  created_at: Date;
  updated_at: Date;
  weights_updated_at: Date | null;
  arms: ArmState[] | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function toStored(r: Row): StoredExperiment {
  return {
    experiment_id: r.experiment_id,
    tenant_id: r.tenant_id,
    status: r.status,
    definition: experimentInputSchema.parse(r.definition),
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    weights_updated_at: iso(r.weights_updated_at),
    arms: (r.arms ?? []).map((a) => ({ ...a, paused_at: iso(a.paused_at) })),
  };
}

const SELECT_EXPERIMENT = `
  SELECT x.experiment_id, x.tenant_id, x.status, x.definition, x.created_at, x.updated_at, x.weights_updated_at,
         (SELECT json_agg(json_build_object('arm_id', a.arm_id, 'current_weight', a.current_weight, 'probability_best', a.probability_best,
                                            'paused_reason', a.paused_reason, 'paused_at', a.paused_at) ORDER BY a.position)
            FROM experiment_arms a WHERE a.experiment_id = x.experiment_id) AS arms
    FROM experiments x`;

/**
 * Experiments (FR-9, migration 011). Every admin mutation and every automatic pause is written with its audit entry in
 * the same transaction (NFR-7). Counts are SQL aggregates over exposures, outcomes and preferences: never a loop over
 * rows in Node, and never one actor's history on its own.
 */
export function createExperimentRepository(sequelize: Sequelize, audit: AuditLog) {
  const q = <T extends object>(sql: string, replacements: Record<string, unknown>, transaction?: Transaction) =>
    sequelize.query<T>(sql, { replacements, transaction, type: QueryTypes.SELECT });

  async function load(tenantId: string, experimentId: string, transaction?: Transaction): Promise<StoredExperiment> {
    const [row] = await q<Row>(`${SELECT_EXPERIMENT} WHERE x.experiment_id = :id${transaction ? ' FOR UPDATE OF x' : ''}`, { id: experimentId }, transaction);
    if (!row) throw new NotFoundError('experiment', experimentId);
    if (row.tenant_id !== tenantId) throw new ForbiddenError('forbidden_tenant', 'this experiment belongs to another tenant');
    return toStored(row);
  }

  async function writeArms(experimentId: string, arms: Array<{ arm_id: string; current_weight: number }>, keep: StoredExperiment['arms'], tx: Transaction) {
    await sequelize.query('DELETE FROM experiment_arms WHERE experiment_id = :id', { replacements: { id: experimentId }, transaction: tx });
    const kept = new Map(keep.map((a) => [a.arm_id, a]));
    for (const [position, a] of arms.entries()) {
      const prior = kept.get(a.arm_id);
      await sequelize.query(
        `INSERT INTO experiment_arms (experiment_id, arm_id, position, current_weight, probability_best, paused_reason, paused_at)
         VALUES (:id, :arm, :position, :weight, NULL, :reason, :at)`,
        { replacements: { id: experimentId, arm: a.arm_id, position, weight: a.current_weight, reason: prior?.paused_reason ?? null, at: prior?.paused_at ?? null }, transaction: tx },
      );
    }
  }

  async function mutate(
    tenantId: string,
    experimentId: string,
    actorSub: string,
    action: string,
    change: (current: StoredExperiment, tx: Transaction) => Promise<void>,
  ): Promise<StoredExperiment> {
    try {
      return await sequelize.transaction(async (tx) => {
        const before = await load(tenantId, experimentId, tx);
        await change(before, tx);
        const after = await load(tenantId, experimentId, tx);
        await audit.record({ tenantId, actorSub, action, resourceType: 'experiment', resourceId: experimentId, before, after }, tx);
        return after;
      });
    } catch (err) {
      // The partial unique index (migration 011): one active experiment per playbook, settled by the database.
      if (err instanceof UniqueConstraintError)
        throw new ConflictError('experiment_already_active', 'another experiment on this playbook is active; deactivate it first');
      throw err;
    }
  }

  return {
    async create(tenantId: string, input: ExperimentInput, weights: Array<{ arm_id: string; current_weight: number }>, actorSub: string): Promise<StoredExperiment> {
      const experimentId = `exp_${crypto.randomUUID()}`;
      return sequelize.transaction(async (tx) => {
        await sequelize.query(
          `INSERT INTO experiments (experiment_id, tenant_id, playbook_id, status, definition) VALUES (:id, :tenant, :playbook, 'draft', CAST(:def AS jsonb))`,
          { replacements: { id: experimentId, tenant: tenantId, playbook: input.playbook_id, def: JSON.stringify(input) }, transaction: tx },
        );
        await writeArms(experimentId, weights, [], tx);
        const after = await load(tenantId, experimentId, tx);
        await audit.record({ tenantId, actorSub, action: 'experiment.create', resourceType: 'experiment', resourceId: experimentId, before: null, after }, tx);
        return after;
      });
    },

    get: load,

    async list(tenantId: string, status?: ExperimentStatus): Promise<StoredExperiment[]> {
      const rows = await q<Row>(`${SELECT_EXPERIMENT} WHERE x.tenant_id = :tenant${status ? ' AND x.status = :status' : ''} ORDER BY x.created_at, x.experiment_id`, { tenant: tenantId, status });
      return rows.map(toStored);
    },

    /** A new definition for a draft or paused experiment; arms that keep their id keep their pause. */
    async update(tenantId: string, experimentId: string, input: ExperimentInput, weights: Array<{ arm_id: string; current_weight: number }>, actorSub: string) {
      return mutate(tenantId, experimentId, actorSub, 'experiment.update', async (current, tx) => {
        if (current.status !== 'draft' && current.status !== 'paused')
          throw new ConflictError('experiment_not_editable', `an ${current.status} experiment cannot be edited; only a draft or paused one`, { status: current.status });
        await sequelize.query(
          'UPDATE experiments SET definition = CAST(:def AS jsonb), playbook_id = :playbook, updated_at = now() WHERE experiment_id = :id',
          { replacements: { id: experimentId, def: JSON.stringify(input), playbook: input.playbook_id }, transaction: tx },
        );
        await writeArms(experimentId, weights, current.arms, tx);
      });
    },

    /**
     * Moves an experiment from one of `from` to `to`. `weights` (activation): the arms' starting weights, and every pause
     * is lifted (an admin resuming a paused experiment decides so, and the audit entry says who).
     */
    async transition(tenantId: string, experimentId: string, from: ExperimentStatus[], to: ExperimentStatus, actorSub: string, action: string, weights?: Array<{ arm_id: string; current_weight: number }>) {
      return mutate(tenantId, experimentId, actorSub, action, async (current, tx) => {
        if (!from.includes(current.status))
          throw new ConflictError('experiment_state_conflict', `the experiment is ${current.status}; this needs it to be ${from.join(' or ')}`, { status: current.status });
        await sequelize.query('UPDATE experiments SET status = :to, updated_at = now(), pending_outcomes = 0 WHERE experiment_id = :id', { replacements: { id: experimentId, to }, transaction: tx });
        if (weights) {
          await writeArms(experimentId, weights, [], tx);
          await sequelize.query('UPDATE experiments SET weights_updated_at = now() WHERE experiment_id = :id', { replacements: { id: experimentId }, transaction: tx });
        }
      });
    },

    /** The tenant's experiments that steer decisions or wait on their guardrails: what the Schedule recomputes. */
    async running(tenantId: string): Promise<StoredExperiment[]> {
      const rows = await q<Row>(`${SELECT_EXPERIMENT} WHERE x.tenant_id = :tenant AND x.status = 'active' ORDER BY x.experiment_id`, { tenant: tenantId });
      return rows.map(toStored);
    },

    /**
     * Per arm: decisions assigned and shown, the shown decisions with each outcome on the arm's actions, and the
     * distinct actors shown the arm, with those of them who now opt out of the playbook's category. An actor who had
     * opted out could not have been shown it (preferences come first), so every such opt-out came after a showing.
     */
    async counts(experimentId: string, transaction?: Transaction): Promise<ArmCounts[]> {
      const rows = await q<Record<keyof ArmCounts, string | number>>(
        `SELECT e.arm_id,
                count(*) AS assigned,
                count(*) FILTER (WHERE e.shown) AS shown,
                count(*) FILTER (WHERE e.shown AND o.accepted) AS accepted,
                count(*) FILTER (WHERE e.shown AND o.dismissed) AS dismissed,
                count(*) FILTER (WHERE e.shown AND o.ignored) AS ignored,
                count(*) FILTER (WHERE e.shown AND o.snoozed) AS snoozed,
                count(DISTINCT e.actor_id) FILTER (WHERE e.shown) AS actors_shown,
                count(DISTINCT e.actor_id) FILTER (WHERE e.shown AND coalesce(p.preferences -> 'opt_out_categories' ? c.category, false)) AS opted_out
           FROM experiment_exposures e
           LEFT JOIN LATERAL (
             SELECT bool_or(d.outcome = 'accepted') AS accepted, bool_or(d.outcome = 'dismissed') AS dismissed,
                    bool_or(d.outcome = 'ignored') AS ignored, bool_or(d.outcome = 'snoozed') AS snoozed
               FROM decision_outcomes d WHERE d.decision_id = e.decision_id AND d.action_id = ANY (e.action_ids)) o ON true
           LEFT JOIN actor_preferences p ON p.tenant_id = e.tenant_id AND p.actor_id = e.actor_id
           -- The category of the playbook's published version (none when unpublished: no opt-out counts).
           CROSS JOIN (SELECT (SELECT v.definition ->> 'category'
                                 FROM experiments x
                                 JOIN playbooks pb ON pb.playbook_id = x.playbook_id
                                 JOIN playbook_versions v ON v.playbook_id = pb.playbook_id AND v.version = pb.published_version
                                WHERE x.experiment_id = :id) AS category) c
          WHERE e.experiment_id = :id
          GROUP BY e.arm_id`,
        { id: experimentId },
        transaction,
      );
      return rows.map((r) => ({
        arm_id: String(r.arm_id), assigned: Number(r.assigned), shown: Number(r.shown), accepted: Number(r.accepted), dismissed: Number(r.dismissed),
        ignored: Number(r.ignored), snoozed: Number(r.snoozed), actors_shown: Number(r.actors_shown), opted_out: Number(r.opted_out),
      }));
    },

    /**
     * The behaviour metric per arm: each actor once, from their first shown decision in the experiment (the unit is the
     * actor, not the decision, so repeat decisions do not count one person many times); the actor's mean daily value of
     * the feature over the `window_days` after that day. Only actors whose window has ended, and who have UBI values in
     * it, are samples. n, mean and sample variance come from SQL.
     */
    async behaviourSamples(experimentId: string, feature: string, windowDays: number): Promise<Map<string, SampleSummary>> {
      const rows = await q<{ arm_id: string; n: string; mean: number | null; variance: number | null }>(
        `WITH first_seen AS (
           SELECT DISTINCT ON (e.arm_id, e.actor_id) e.arm_id, e.actor_id, e.tenant_id, (e.created_at AT TIME ZONE 'UTC')::date AS day
             FROM experiment_exposures e
            WHERE e.experiment_id = :id AND e.shown
            ORDER BY e.arm_id, e.actor_id, e.created_at),
         per_actor AS (
           SELECT s.arm_id, s.actor_id, avg(f.value) AS value
             FROM first_seen s
             JOIN ubi_feature_daily f ON f.tenant_id = s.tenant_id AND f.actor_id = s.actor_id AND f.feature = :feature
                                     AND f.day > s.day AND f.day <= s.day + :window
            WHERE s.day + :window < (now() AT TIME ZONE 'UTC')::date
            GROUP BY s.arm_id, s.actor_id)
         SELECT arm_id, count(*) AS n, avg(value) AS mean, coalesce(var_samp(value), 0) AS variance FROM per_actor GROUP BY arm_id`,
        { id: experimentId, feature, window: windowDays },
      );
      return new Map(rows.map((r) => [r.arm_id, { n: Number(r.n), mean: Number(r.mean ?? 0), variance: Number(r.variance ?? 0) }]));
    },

    /**
     * The Schedule's write: new weights, pauses with their audit entries, and the outcome counter taken back by what
     * it saw (outcomes recorded meanwhile stay counted). When every arm but the holdout is paused, the experiment
     * pauses too (it stops steering; its playbook runs as published), audited as well.
     */
    async saveAllocation(tenantId: string, experimentId: string, updates: ArmUpdate[], seenOutcomes: number, pauseExperiment: boolean): Promise<StoredExperiment> {
      return sequelize.transaction(async (tx) => {
        const before = await load(tenantId, experimentId, tx);
        if (before.status !== 'active') return before;
        for (const u of updates) {
          await sequelize.query(
            `UPDATE experiment_arms SET current_weight = :weight, probability_best = :best,
                    paused_reason = coalesce(paused_reason, :reason), paused_at = CASE WHEN CAST(:reason AS text) IS NOT NULL AND paused_at IS NULL THEN now() ELSE paused_at END
              WHERE experiment_id = :id AND arm_id = :arm`,
            { replacements: { id: experimentId, arm: u.arm_id, weight: u.current_weight, best: u.probability_best, reason: u.pause ?? null }, transaction: tx },
          );
        }
        await sequelize.query(
          `UPDATE experiments SET weights_updated_at = now(), pending_outcomes = greatest(0, pending_outcomes - :seen)${pauseExperiment ? ", status = 'paused', updated_at = now()" : ''} WHERE experiment_id = :id`,
          { replacements: { id: experimentId, seen: seenOutcomes }, transaction: tx },
        );
        const after = await load(tenantId, experimentId, tx);
        const paused = updates.filter((u) => u.pause && !before.arms.find((a) => a.arm_id === u.arm_id)?.paused_reason);
        for (const u of paused)
          await audit.record({ tenantId, actorSub: GUARDRAIL_ACTOR, action: 'experiment.arm_paused', resourceType: 'experiment', resourceId: experimentId, before: { arm_id: u.arm_id, paused_reason: null }, after: { arm_id: u.arm_id, paused_reason: u.pause } }, tx);
        if (pauseExperiment)
          await audit.record({ tenantId, actorSub: GUARDRAIL_ACTOR, action: 'experiment.paused', resourceType: 'experiment', resourceId: experimentId, before: { status: before.status }, after: { status: 'paused', reason: 'every arm but the holdout is paused by its guardrails' } }, tx);
        return after;
      });
    },

    /**
     * The tenant metrics' experiments section (FR-13): per experiment that is running or showed something in the
     * window, per arm, the decisions shown in it, those accepted, and the distinct actors they cover (for k-anonymity).
     */
    async windowArms(tenantId: string, since: Date, until: Date): Promise<Array<{ experiment_id: string; status: ExperimentStatus; arms: Array<{ arm_id: string; shown: number; accepted: number; actors: number }> }>> {
      const rows = await q<{ experiment_id: string; status: ExperimentStatus; arm_id: string; shown: string; accepted: string; actors: string }>(
        `WITH w AS (
           SELECT e.experiment_id, e.arm_id, count(*) AS shown, count(DISTINCT e.actor_id) AS actors,
                  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM decision_outcomes d WHERE d.decision_id = e.decision_id AND d.action_id = ANY (e.action_ids) AND d.outcome = 'accepted')) AS accepted
             FROM experiment_exposures e
            WHERE e.tenant_id = :tenant AND e.shown AND e.created_at >= :since AND e.created_at < :until
            GROUP BY e.experiment_id, e.arm_id)
         SELECT x.experiment_id, x.status, a.arm_id, coalesce(w.shown, 0) AS shown, coalesce(w.accepted, 0) AS accepted, coalesce(w.actors, 0) AS actors
           FROM experiments x JOIN experiment_arms a ON a.experiment_id = x.experiment_id
           LEFT JOIN w ON w.experiment_id = x.experiment_id AND w.arm_id = a.arm_id
          WHERE x.tenant_id = :tenant
            AND (x.status IN ('active', 'paused') OR EXISTS (SELECT 1 FROM w WHERE w.experiment_id = x.experiment_id))
          ORDER BY x.created_at, x.experiment_id, a.position`,
        { tenant: tenantId, since, until },
      );
      const out = new Map<string, { experiment_id: string; status: ExperimentStatus; arms: Array<{ arm_id: string; shown: number; accepted: number; actors: number }> }>();
      for (const r of rows) {
        const e = out.get(r.experiment_id) ?? out.set(r.experiment_id, { experiment_id: r.experiment_id, status: r.status, arms: [] }).get(r.experiment_id)!;
        e.arms.push({ arm_id: r.arm_id, shown: Number(r.shown), accepted: Number(r.accepted), actors: Number(r.actors) });
      }
      return [...out.values()];
    },

    /** The outcomes pending on each active experiment; read by the Schedule before it counts. */
    async pendingOutcomes(experimentId: string): Promise<number> {
      const [row] = await q<{ n: number }>('SELECT pending_outcomes AS n FROM experiments WHERE experiment_id = :id', { id: experimentId });
      return Number(row?.n ?? 0);
    },

    /**
     * An outcome was recorded on `decisionId`: each active experiment that touched it counts one more pending outcome.
     * Returns the tenants whose count has just reached `threshold` (exactly: one trigger per crossing, however many
     * outcomes arrive before the recompute).
     */
    async noteOutcome(decisionId: string, threshold: number): Promise<string[]> {
      const rows = await q<{ tenant_id: string; n: number }>(
        `UPDATE experiments x SET pending_outcomes = x.pending_outcomes + 1
           FROM experiment_exposures e
          WHERE e.decision_id = :decision AND e.experiment_id = x.experiment_id AND x.status = 'active'
          RETURNING x.tenant_id, x.pending_outcomes AS n`,
        { decision: decisionId },
      );
      return [...new Set(rows.filter((r) => Number(r.n) === threshold).map((r) => r.tenant_id))];
    },
  };
}
export type ExperimentRepository = ReturnType<typeof createExperimentRepository>;
