import { QueryTypes, type Sequelize } from 'sequelize';
import type { RecentSignal } from '../../domain/model/signal';

/** Recent behavioural signals of an actor from the UBI store (same database in the embedded default). */
export function createSignalReader(sequelize: Sequelize) {
  return {
    async recent(tenantId: string, actorId: string, limit = 10): Promise<RecentSignal[]> {
      const rows = await sequelize.query<RecentSignal & { created_at: Date }>(
        `SELECT signal_id, dimension, signal_type, severity, score, created_at
           FROM ubi_signals WHERE tenant_id = :tenantId AND actor_id = :actorId
          ORDER BY created_at DESC LIMIT :limit`,
        { replacements: { tenantId, actorId, limit }, type: QueryTypes.SELECT },
      );
      return rows.map((r) => ({ ...r, score: Number(r.score), created_at: new Date(r.created_at).toISOString() }));
    },
  };
}
export type SignalReader = ReturnType<typeof createSignalReader>;
