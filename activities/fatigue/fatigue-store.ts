import type { FatigueVerdict, ReserveRequest } from '../../domain/fatigue';

/**
 * Shared fatigue state (FR-7). Reserving is one atomic step per decision, so concurrent decisions for one actor, on
 * any number of instances, never exceed the limit together.
 */
export interface FatigueStore {
  readonly kind: 'redis' | 'memory';
  reserve(tenantId: string, actorId: string, req: ReserveRequest): Promise<FatigueVerdict[]>;
  ping(): Promise<void>;
}
