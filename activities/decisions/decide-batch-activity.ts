import crypto from 'node:crypto';
import {
  ALL_ACTION_TYPES,
  basePlanOf,
  commitInputOf,
  contextInput,
  followUpStartsOf,
  isBatchItemError,
  prepareActionFollowUps,
  wantsGateway,
  type BatchItemError,
  type CommitDecisionInput,
  type DecisionInput,
  type FollowUpStarts,
  type GatewayStatus,
  type LoadContextInput,
  type LoadedContext,
  type PlanningRandomness,
  type RecordedAt,
} from '../../domain/decision-steps';
import type { DecisionRef } from '../../domain/model/decision';

export interface DecideBatchItem {
  input: DecisionInput;
  recorded_at: RecordedAt;
  /**
   * Drawn by the workflow from its deterministic generator: this decision's action ids and experiment draws derive
   * from it, so a workflow task that runs the batch again (its worker died) plans the same ids the first attempt may
   * have stored, and the follow-ups of the shown actions still match them.
   */
  seed: string;
}

export interface DecideBatchInput {
  /** The workflow's time for the batch: each decision's created_at and the planning clock (quiet hours). */
  now: string;
  items: DecideBatchItem[];
}

/** A decision made: its reference, and the follow-up workflows the workflow starts for it (absent when none). */
export interface DecidedItem {
  ref: DecisionRef;
  follow_ups?: FollowUpStarts;
}

export interface DecideBatchDeps {
  loadDecisionContexts(inputs: LoadContextInput[]): Promise<Array<LoadedContext | BatchItemError>>;
  commitDecisions(inputs: CommitDecisionInput[]): Promise<Array<DecisionRef | BatchItemError>>;
  mentorGatewayStatus(): Promise<GatewayStatus>;
}

/** Action ids and uniform draws from a seed: SHA-256 of (seed, counter), shaped as a v4 UUID for ids. */
export function seededPlanning(seed: string): PlanningRandomness {
  let n = 0;
  const next = () => crypto.createHash('sha256').update(`${seed}/${n++}`).digest();
  return {
    uniform: () => next().readUIntBE(0, 6) / 2 ** 48,
    actionId: () => {
      const b = next();
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = b.toString('hex', 0, 16);
      return `act_${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    },
  };
}

/**
 * One local activity per shard batch (ADR 0012, "One activity per batch"): every context in one read, the pure
 * planning of each decision, one gateway check when a mentor action may be enriched, every commit in one transaction.
 * The workflow then only starts the follow-ups and answers the Updates: one workflow activation per batch instead of
 * two, and neither the contexts nor the commit inputs travel through the workflow (or its history).
 *
 * Per-item errors as in loadDecisionContexts and commitDecisions: one that fails is answered with its error; when every
 * one fails in either step, the activity fails and is retried (both steps are idempotent by decision id).
 */
export function createDecideBatchActivity(deps: DecideBatchDeps) {
  return {
    async decideBatch(batch: DecideBatchInput): Promise<Array<DecidedItem | BatchItemError>> {
      const now = new Date(batch.now);
      const contexts = await deps.loadDecisionContexts(batch.items.map((item) => contextInput(item.input)));
      const planned = batch.items.map((item, i) => {
        const ctx = contexts[i];
        return isBatchItemError(ctx) ? { item, error: ctx } : { item, ctx, base: basePlanOf(item.input, ctx, now, ALL_ACTION_TYPES, seededPlanning(item.seed)) };
      });
      const wanted = planned.map((d) => d.ctx !== undefined && wantsGateway(d.base.plan, d.ctx));
      const gateway = wanted.some(Boolean) ? await deps.mentorGatewayStatus() : null;
      const ready = planned.map((d, i) => (d.ctx ? { ...d, prepared: prepareActionFollowUps(d.base, d.item.input, d.ctx, now, wanted[i] ? gateway : null) } : d));
      const toCommit = ready.flatMap((d) => ('prepared' in d && d.ctx ? [{ ...d, ctx: d.ctx, prepared: d.prepared }] : []));
      const refs = toCommit.length > 0 ? await deps.commitDecisions(toCommit.map((d) => commitInputOf(d.item.input, d.ctx, d.prepared, now, d.item.recorded_at))) : [];
      const results = new Map<DecideBatchItem, DecidedItem | BatchItemError>();
      for (const d of ready) if (d.error) results.set(d.item, d.error);
      toCommit.forEach((d, i) => {
        const ref = refs[i];
        if (isBatchItemError(ref)) return results.set(d.item, ref);
        const starts = followUpStartsOf(d.item.input, d.prepared.plan, d.prepared.followUps, ref);
        const any = starts.mentor.length + starts.approvals.length + starts.alerts.length > 0;
        results.set(d.item, any ? { ref, follow_ups: starts } : { ref });
      });
      return batch.items.map((item) => results.get(item) ?? { error: 'not decided' });
    },
  };
}
