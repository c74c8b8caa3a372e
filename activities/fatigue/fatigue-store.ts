import type { FatigueVerdict, ReserveRequest } from '../../domain/fatigue';

/**
 * Shared fatigue state (FR-7). Reserving is one atomic step per decision, so concurrent decisions for one actor, on
 * any number of instances, never exceed the limit together.
 */
export interface FatigueStore {
  readonly kind: 'redis' | 'memory';
  reserve(tenantId: string, actorId: string, req: ReserveRequest): Promise<FatigueVerdict[]>;
  /** The same reservation, with the nudges the actor has left in the window after it (null: a result stored before it was kept). */
  reserveWithBudget(tenantId: string, actorId: string, req: ReserveRequest): Promise<{ verdicts: FatigueVerdict[]; remaining: number | null }>;
  ping(): Promise<void>;
}
