import { Sequelize } from 'sequelize';
import { withoutPreparedStatements } from './direct-sql';

export interface DatabaseOptions {
  url: string;
  poolMin: number;
  poolMax: number;
  /** A connection idle this long is closed and replaced (requirement: recycle idle connections after 600 s). */
  idleMs?: number;
  /** Opening a connection, and waiting for a free one, gives up after this long (requirement: 30 s). */
  connectTimeoutMs?: number;
  /** A connection idle at least this long answers `SELECT 1` before it is handed out (pre-ping); 0 pings every use. */
  pingAfterIdleMs?: number;
  /** How long the pre-ping waits for its answer before the connection counts as dead. */
  pingTimeoutMs?: number;
  /** False: the decide path's statements go unnamed (a PgBouncer in transaction mode before 1.21). Default true. */
  preparedStatements?: boolean;
}

/** The storage requirement's numbers; config/config.ts carries the same defaults for the environment. */
export const POOL_DEFAULTS = { idleMs: 600_000, connectTimeoutMs: 30_000, pingAfterIdleMs: 1_000, pingTimeoutMs: 5_000 } as const;

/**
 * The pool follows the storage requirement: idle connections recycled after 600 s, 30 s to connect or to wait for a
 * connection, and a pre-ping (below) before a connection that has sat idle is used.
 */
export function createSequelize(opts: DatabaseOptions): Sequelize {
  const o: PoolTimings = {
    idleMs: opts.idleMs ?? POOL_DEFAULTS.idleMs,
    connectTimeoutMs: opts.connectTimeoutMs ?? POOL_DEFAULTS.connectTimeoutMs,
    pingAfterIdleMs: opts.pingAfterIdleMs ?? POOL_DEFAULTS.pingAfterIdleMs,
    pingTimeoutMs: opts.pingTimeoutMs ?? POOL_DEFAULTS.pingTimeoutMs,
  };
  const sequelize = new Sequelize(opts.url, {
    dialect: 'postgres',
    logging: false,
    benchmark: false,
    // The pool's own reaper closes connections idle past `idle` above `min`; the checkout below recycles the rest.
    pool: { min: opts.poolMin, max: opts.poolMax, idle: o.idleMs, acquire: o.connectTimeoutMs, evict: Math.min(60_000, o.idleMs) },
    dialectOptions: { connectionTimeoutMillis: o.connectTimeoutMs, application_name: 'mmm-ubi' },
    define: { underscored: true, timestamps: false, freezeTableName: true },
  });
  installPrePing(sequelize, o, opts.poolMax);
  if (opts.preparedStatements === false) withoutPreparedStatements(sequelize);
  return sequelize;
}

type PoolTimings = Required<Pick<DatabaseOptions, 'idleMs' | 'connectTimeoutMs' | 'pingAfterIdleMs' | 'pingTimeoutMs'>>;

/** What the pre-ping needs of a pooled pg client. */
interface PooledClient {
  query(config: { text: string; query_timeout: number }): Promise<unknown>;
  _invalid?: boolean;
}
interface PoolManager {
  getConnection(options?: unknown): Promise<PooledClient>;
  releaseConnection(connection: PooledClient): void;
  destroyConnection(connection: PooledClient): Promise<void>;
}

/**
 * Sequelize's own check before it hands out a connection only reads flags set when the client saw an error, so a
 * connection the server or the network dropped without the client noticing (a failover, a NAT or firewall idle
 * timeout, a half-open socket) is handed to the next query, which then fails or hangs. Here a connection that has
 * been idle at least `pingAfterIdleMs` first answers `SELECT 1` within `pingTimeoutMs`; one that does not is destroyed
 * and the next is tried, as is one idle past `idleMs` (recycled even when it is one of the pool's minimum).
 * Connections in use a moment ago are not pinged: under load there is no extra round trip.
 */
function installPrePing(sequelize: Sequelize, o: PoolTimings, poolMax: number) {
  const manager = sequelize.connectionManager as unknown as PoolManager;
  const acquire = manager.getConnection.bind(manager);
  const release = manager.releaseConnection.bind(manager);
  const releasedAt = new WeakMap<PooledClient, number>();
  // Destroying must not wait for a dead peer to acknowledge the close; the pool forgets the connection at once.
  const discard = (connection: PooledClient) => {
    connection._invalid = true;
    manager.destroyConnection(connection).catch(() => undefined);
  };
  manager.releaseConnection = (connection) => {
    releasedAt.set(connection, Date.now());
    release(connection);
  };
  manager.getConnection = async (options) => {
    for (let attempt = 1; ; attempt++) {
      const connection = await acquire(options);
      const since = releasedAt.get(connection);
      // A connection never released is fresh from connect(): nothing to check.
      if (since === undefined) return connection;
      releasedAt.delete(connection);
      const idle = Date.now() - since;
      if (idle < o.pingAfterIdleMs) return connection;
      if (idle >= o.idleMs) {
        discard(connection);
        continue;
      }
      try {
        await connection.query({ text: 'SELECT 1', query_timeout: o.pingTimeoutMs });
        return connection;
      } catch (err) {
        discard(connection);
        // Each failed ping removes one pooled connection, so after `max` of them the next is a new connection:
        // failing past that means the database itself does not answer.
        if (attempt > poolMax) throw err;
      }
    }
  };
}
