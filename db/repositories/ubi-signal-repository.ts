import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { BehaviouralSignal } from '../../domain/model/behavioural-signal';

interface SignalRow {
  signal_id: string; tenant_id: string; actor_id: string; actor_type: string; team_id: string | null; dimension: string;
  signal_type: string; severity: string; value: number; baseline: BehaviouralSignal['baseline']; score: number;
  explanation: Record<string, unknown>; window_start: Date; window_end: Date; created_at: Date; config_version: number;
}

function toSignal(r: SignalRow): BehaviouralSignal {
  return {
    signal_id: r.signal_id, tenant_id: r.tenant_id, actor_id: r.actor_id, actor_type: r.actor_type as BehaviouralSignal['actor_type'],
    team_id: r.team_id, dimension: r.dimension, signal_type: r.signal_type, severity: r.severity as BehaviouralSignal['severity'],
    value: Number(r.value), baseline: r.baseline, score: Number(r.score), explanation: r.explanation,
    window_start: new Date(r.window_start).toISOString(), window_end: new Date(r.window_end).toISOString(),
    created_at: new Date(r.created_at).toISOString(), config_version: r.config_version,
  };
}

const COLUMNS = 'signal_id, tenant_id, actor_id, actor_type, team_id, dimension, signal_type, severity, value, baseline, score, explanation, window_start, window_end, created_at, config_version';

export interface SignalFilter {
  actor_id?: string;
  since?: string;
  severity?: string;
  dimension?: string;
  limit: number;
}

/** Behavioural signals: stored once per id (ids are derived from actor, feature and window), published after commit. */
export function createUbiSignalRepository(sequelize: Sequelize) {
  return {
    /** Inserts the signals; returns only those that were new (a re-computed window does not signal twice). */
    async insert(tx: Transaction, signals: BehaviouralSignal[]): Promise<Set<string>> {
      if (signals.length === 0) return new Set();
      const col = <K extends keyof BehaviouralSignal>(k: K) => signals.map((s) => s[k]);
      const rows = await sequelize.query<{ signal_id: string }>(
        `INSERT INTO ubi_signals (signal_id, tenant_id, actor_id, actor_type, team_id, dimension, signal_type, severity, value, baseline, score, explanation, window_start, window_end, created_at, config_version, cold_start)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::jsonb[], $11::float8[], $12::jsonb[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::int[], $17::text[])
         ON CONFLICT (signal_id) DO NOTHING RETURNING signal_id`,
        {
          bind: [
            col('signal_id'), col('tenant_id'), col('actor_id'), col('actor_type'), col('team_id'), col('dimension'), col('signal_type'), col('severity'),
            col('value'), signals.map((s) => JSON.stringify(s.baseline)), col('score'), signals.map((s) => JSON.stringify(s.explanation)),
            col('window_start'), col('window_end'), col('created_at'), col('config_version'), signals.map((s) => String(s.explanation.cold_start ?? '')),
          ],
          type: QueryTypes.SELECT,
          transaction: tx,
        },
      );
      return new Set(rows.map((r) => r.signal_id));
    },

    async markPublished(ids: string[]): Promise<void> {
      if (ids.length) await sequelize.query(`UPDATE ubi_signals SET published_at = now() WHERE signal_id = ANY($1::text[])`, { bind: [ids] });
    },

    /** Stored but not yet published (a publish failed, or the process stopped between commit and publish). */
    async unpublished(olderThanSeconds: number, limit: number): Promise<BehaviouralSignal[]> {
      const rows = await sequelize.query<SignalRow>(
        `SELECT ${COLUMNS} FROM ubi_signals WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2`,
        { bind: [olderThanSeconds, limit], type: QueryTypes.SELECT },
      );
      return rows.map(toSignal);
    },

    async list(tenantId: string, f: SignalFilter): Promise<BehaviouralSignal[]> {
      const where = ['tenant_id = $1'];
      const bind: unknown[] = [tenantId];
      const add = (sql: string, v: unknown) => {
        bind.push(v);
        where.push(sql.replace('?', `$${bind.length}`));
      };
      if (f.actor_id) add('actor_id = ?', f.actor_id);
      if (f.since) add('created_at >= ?', f.since);
      if (f.severity) add('severity = ?', f.severity);
      if (f.dimension) add('dimension = ?', f.dimension);
      bind.push(f.limit);
      const rows = await sequelize.query<SignalRow>(
        `SELECT ${COLUMNS} FROM ubi_signals WHERE ${where.join(' AND ')} ORDER BY created_at DESC, signal_id LIMIT $${bind.length}`,
        { bind, type: QueryTypes.SELECT },
      );
      return rows.map(toSignal);
    },
  };
}
export type UbiSignalRepository = ReturnType<typeof createUbiSignalRepository>;
