/**
 * The decide path's statements on the pg driver itself, on a connection of Sequelize's own pool (so its pre-ping and
 * limits apply): ADR 0012, "Fewer round trips". Two shapes, from the same SQL text with `:name` placeholders:
 * - `prepared`: a named prepared statement with `$n` parameters, parsed and planned once per connection (the decision
 *   context, the largest statement of the path);
 * - `literal`: the values written into the text, so several statements go in one simple-protocol round trip (the
 *   commit of a batch: BEGIN with the chain lock and the look for earlier commits, then every insert with COMMIT).
 * A placeholder is `:name` not preceded by a colon (`::jsonb` casts stay), and never inside a string literal; a name
 * missing from the values throws, so a stray match cannot go unnoticed.
 */
import crypto from 'node:crypto';
import { ConnectionError, type Sequelize } from 'sequelize';

export type SqlValue = string | number | boolean | null | readonly string[];

export interface PgResult<R> {
  rows: R[];
}

/** The part of a pg client used here. */
export interface PgConnection {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<PgResult<R>>;
  query(text: string): Promise<PgResult<Record<string, unknown>> | Array<PgResult<Record<string, unknown>>>>;
  /** Marks the connection broken, so the pool drops it instead of handing it out again. */
  discard(): void;
}

const PLACEHOLDER = /(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g;

function valueOf(values: Record<string, SqlValue | undefined>, name: string): SqlValue {
  const v = values[name];
  if (v === undefined) throw new Error(`no value for :${name}`);
  return v;
}

/**
 * A string literal as pg's escapeLiteral writes it (quotes doubled; with a backslash, an E'' literal with backslashes
 * doubled), by native replace instead of its character-by-character loop: the decision and receipt bodies are kilobytes.
 */
export function quoteLiteral(s: string): string {
  const quoted = s.replace(/'/g, "''");
  return s.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

function literalOf(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) {
    if (v.length === 0) throw new Error('an empty list has no SQL literal');
    return v.map((s) => quoteLiteral(s)).join(', ');
  }
  return quoteLiteral(v as string);
}

/** The statement with its values written in as literals (a list becomes `a, b, c`, for `IN (:ids)`). */
export function literal(sql: string, values: Record<string, SqlValue | undefined>): string {
  return sql.replace(PLACEHOLDER, (_, name: string) => literalOf(valueOf(values, name)));
}

/**
 * A named prepared statement: `$n` parameters in order of first use, named after a hash of its text. Each SQL text is
 * turned into its `$n` form and name once; a call only picks the values.
 */
export function prepared(sql: string, values: Record<string, SqlValue | undefined>): { name: string; text: string; values: unknown[] } {
  let compiled = compiledStatements.get(sql);
  if (!compiled) {
    const order: string[] = [];
    const text = sql.replace(PLACEHOLDER, (_, name: string) => {
      let i = order.indexOf(name);
      if (i < 0) i = order.push(name) - 1;
      return `$${i + 1}`;
    });
    // Only fixed texts are prepared; the bound only keeps a misuse from growing without end.
    if (compiledStatements.size >= 1000) compiledStatements.clear();
    compiled = { name: `mmm_${crypto.createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text, order };
    compiledStatements.set(sql, compiled);
  }
  return { name: compiled.name, text: compiled.text, values: compiled.order.map((n) => valueOf(values, n)) };
}

/** Per SQL text: its `$n` form, statement name and parameter order (the path's few statements). */
const compiledStatements = new Map<string, { name: string; text: string; order: string[] }>();

interface ConnectionManager {
  getConnection(options?: unknown): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): void;
}

/** Pools whose connections get no named statements (config DATABASE_PREPARED_STATEMENTS=false). */
const unnamed = new WeakSet<Sequelize>();

/** `prepared` statements on this pool's connections go unnamed: parsed and planned on each use, as any other query. */
export function withoutPreparedStatements(sequelize: Sequelize): void {
  unnamed.add(sequelize);
}

/**
 * A pooled connection for `run`, given back afterwards. An error PostgreSQL answered with (it has a SQLSTATE) comes as
 * pg raised it; a lost connection (terminated, reset) marks the connection broken, so the pool drops it, and comes as
 * Sequelize's ConnectionError, as from any other query: the API answers 503 for it (api/error-handler.ts).
 */
export async function withConnection<T>(sequelize: Sequelize, run: (connection: PgConnection) => Promise<T>): Promise<T> {
  const manager = sequelize.connectionManager as unknown as ConnectionManager;
  const connection = await manager.getConnection({ type: 'write' });
  const named = !unnamed.has(sequelize);
  const discard = () => {
    (connection as { _invalid?: boolean })._invalid = true;
  };
  const guarded = {
    query: async (q: string | { name: string; text: string; values: unknown[] }) => {
      const sent = typeof q === 'string' || named ? q : { text: q.text, values: q.values };
      try {
        return await connection.query(sent as string);
      } catch (err) {
        // PostgreSQL answered (the error has a SQLSTATE): as pg raised it. Anything else lost the connection.
        const code = (err as { code?: unknown } | null)?.code;
        if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) throw err;
        discard();
        throw new ConnectionError(err instanceof Error ? err : new Error(String(err)));
      }
    },
    discard,
  } as PgConnection;
  try {
    return await run(guarded);
  } finally {
    manager.releaseConnection(connection);
  }
}

/** Sends statements within the transaction; with `commit`, COMMIT goes in the same round trip. Rows per statement. */
export type SendStatements = (statements: string[], opts?: { commit?: boolean }) => Promise<Array<Array<Record<string, unknown>>>>;

/**
 * One transaction on one connection in as few round trips as the caller makes: BEGIN goes with the first statements
 * sent, COMMIT with the last (`commit: true`) or on its own after `run`. Any failure rolls back; a connection that
 * cannot roll back is marked broken, so the pool drops it.
 */
export async function inTransaction<T>(sequelize: Sequelize, run: (send: SendStatements) => Promise<T>): Promise<T> {
  return withConnection(sequelize, async (connection) => {
    let open = false;
    let committed = false;
    const send: SendStatements = async (statements, opts = {}) => {
      if (committed) throw new Error('the transaction is already committed');
      const first = !open;
      open = true;
      const all = [...(first ? ['BEGIN'] : []), ...statements, ...(opts.commit ? ['COMMIT'] : [])];
      const out = await connection.query(all.join(';\n'));
      committed = opts.commit === true;
      const rows = (Array.isArray(out) ? out : [out]).map((r) => r.rows);
      return rows.slice(first ? 1 : 0, opts.commit ? -1 : undefined);
    };
    try {
      const result = await run(send);
      if (open && !committed) await connection.query('COMMIT');
      return result;
    } catch (err) {
      if (open && !committed) await connection.query('ROLLBACK').catch(() => connection.discard());
      throw err;
    }
  });
}
