import type { FatigueVerdict, ReserveRequest } from '../../domain/fatigue';
import type { FatigueStore } from './fatigue-store';

export interface ReserveNudgesInput extends ReserveRequest {
  tenant_id: string;
  actor_id: string;
}

export type ReserveNudgesResult = { available: true; verdicts: FatigueVerdict[]; remaining: number | null } | { available: false; error: string };

export function createFatigueActivities(deps: { fatigueStore: FatigueStore }) {
  return {
    /**
     * Atomically reserves nudge slots. A store that cannot answer yields `available: false` rather than an error the
     * workflow would retry past its latency budget: the decision then shows nothing and says it is degraded.
     */
    async reserveNudges(input: ReserveNudgesInput): Promise<ReserveNudgesResult> {
      const { tenant_id, actor_id, ...req } = input;
      try {
        return { available: true, ...(await deps.fatigueStore.reserveWithBudget(tenant_id, actor_id, req)) };
      } catch (err) {
        return { available: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
