import { emptyFatigueState, reserveNudges, type FatigueState, type FatigueVerdict } from '../../domain/fatigue';
import type { FatigueStore } from './fatigue-store';

/**
 * The in-process fallback when no Redis is available. Single node only: two processes would each keep their own
 * counts, so it announces itself in `ready` and the start-up log.
 */
export function createMemoryFatigueStore(): FatigueStore {
  const states = new Map<string, FatigueState>();
  const results = new Map<string, { verdicts: FatigueVerdict[]; remaining: number }>();
  const store: FatigueStore = {
    kind: 'memory',
    async reserve(tenantId, actorId, req) {
      return (await store.reserveWithBudget(tenantId, actorId, req)).verdicts;
    },
    async reserveWithBudget(tenantId, actorId, req) {
      const resultKey = `${tenantId}\u0000${actorId}\u0000${req.decision_id}`;
      const prior = results.get(resultKey);
      if (prior) return prior;
      const key = `${tenantId}\u0000${actorId}`;
      const { state, verdicts, remaining } = reserveNudges(states.get(key) ?? emptyFatigueState(), req);
      states.set(key, state);
      results.set(resultKey, { verdicts, remaining });
      if (results.size > 100_000) results.delete(results.keys().next().value as string);
      return { verdicts, remaining };
    },
    async ping() {},
  };
  return store;
}
