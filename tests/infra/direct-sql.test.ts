/**
 * The decide path's statements on the pg driver (db/direct-sql.ts), against the suite's real PostgreSQL: values written
 * as literals survive quotes, backslashes and casts; a prepared statement gets its values in order; a transaction
 * sent in two round trips commits both or neither, and a failed one leaves its connection (the pool's only one) fit for
 * the next query; a connection lost mid-transaction surfaces as Sequelize's ConnectionError (a 503) and is replaced.
 */
import crypto from 'node:crypto';
import { Client, escapeLiteral } from 'pg';
import { ConnectionError, type Sequelize } from 'sequelize';
import { createSequelize } from '../../db/sequelize';
import { inTransaction, literal, prepared, quoteLiteral, withConnection } from '../../db/direct-sql';
import { requireEnv } from '../support/harness';

let sequelize: Sequelize;
const table = `direct_sql_${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  sequelize = createSequelize({ url: requireEnv('TEST_DATABASE_URL'), poolMin: 0, poolMax: 1 });
  await sequelize.query(`CREATE TABLE ${table} (id text PRIMARY KEY, body jsonb, n integer)`);
});
afterAll(async () => {
  await sequelize.query(`DROP TABLE IF EXISTS ${table}`);
  await sequelize.close();
});

async function withAdmin<T>(run: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: requireEnv('TEST_DATABASE_URL') });
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}

const count = async () => Number(((await sequelize.query(`SELECT count(*)::int AS n FROM ${table}`, { plain: true })) as { n: number }).n);

describe('literal', () => {
  it('writes strings, numbers, booleans, null and lists so PostgreSQL reads back exactly what was given', async () => {
    const hostile = `it's a \\ back'slash'; DROP TABLE ${table}; --`;
    const sql = literal('SELECT :s AS s, :n AS n, :b AS b, :z AS z, CAST(:j AS jsonb) AS j, 1::int AS cast_kept, :s IN (:list) AS listed', {
      s: hostile,
      n: 42.5,
      b: true,
      z: null,
      j: JSON.stringify({ quote: "o'clock", slash: 'a\\b' }),
      list: ['x', hostile],
    });
    const row = await withConnection(sequelize, async (c) => {
      const r = await c.query(sql);
      return (Array.isArray(r) ? r[0] : r).rows[0];
    });
    expect(row).toEqual({ s: hostile, n: '42.5', b: true, z: null, j: { quote: "o'clock", slash: 'a\\b' }, cast_kept: 1, listed: true });
  });

  it('quotes a string exactly as pg\'s own escapeLiteral does', () => {
    const samples = ['', 'plain', "o'clock", "''", '\\', 'a\\b', "mixed \\ and ' and \\'", '{"json":"with \\"quotes\\" and \\\\n"}', 'ünïcödé ✓', "\n\t'"];
    for (const s of samples) expect({ s, quoted: quoteLiteral(s) }).toEqual({ s, quoted: escapeLiteral(s) });
  });

  it('refuses a placeholder without a value, a non-finite number and an empty list', () => {
    expect(() => literal('SELECT :a, :b', { a: 1 })).toThrow('no value for :b');
    expect(() => literal('SELECT :a', { a: Number.NaN })).toThrow('not a finite number');
    expect(() => literal('SELECT 1 WHERE x IN (:ids)', { ids: [] })).toThrow('empty list');
  });
});

describe('prepared', () => {
  it('numbers each name once, in order of first use, and names the statement after its text', async () => {
    const a = prepared('SELECT CAST(:x AS text) AS x, CAST(:y AS int) + CAST(:y AS int) AS y2', { y: 2, x: 'it\'s' });
    expect(a.text).toBe('SELECT CAST($1 AS text) AS x, CAST($2 AS int) + CAST($2 AS int) AS y2');
    expect(a.values).toEqual(["it's", 2]);
    expect(prepared('SELECT CAST(:x AS text) AS x, CAST(:y AS int) + CAST(:y AS int) AS y2', { x: 'b', y: 3 }).name).toBe(a.name);
    expect(prepared('SELECT :x', { x: 1 }).name).not.toBe(a.name);
    // Run twice on one connection: the second reuses the statement prepared by the first.
    const rows = await withConnection(sequelize, async (c) => [(await c.query(a)).rows[0], (await c.query({ ...a, values: ['again', 5] })).rows[0]]);
    expect(rows).toEqual([{ x: "it's", y2: 4 }, { x: 'again', y2: 10 }]);
  });
});

describe('DATABASE_PREPARED_STATEMENTS', () => {
  const preparedInSession = (db: Sequelize) =>
    withConnection(db, async (c) => {
      await c.query(prepared('SELECT CAST(:x AS int) + 1 AS y', { x: 1 }));
      const rows = (await c.query(prepared("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE 'SELECT CAST($1 AS int) + 1%'", {}))).rows;
      return (rows[0] as { n: number }).n;
    });

  it('on (the default), the session keeps the named statement; off, it keeps none and answers the same', async () => {
    expect(await preparedInSession(sequelize)).toBe(1);
    const unnamed = createSequelize({ url: requireEnv('TEST_DATABASE_URL'), poolMin: 0, poolMax: 1, preparedStatements: false });
    try {
      expect(await preparedInSession(unnamed)).toBe(0);
      await expect(withConnection(unnamed, async (c) => (await c.query(prepared('SELECT CAST(:x AS int) + 1 AS y', { x: 41 }))).rows)).resolves.toEqual([{ y: 42 }]);
    } finally {
      await unnamed.close();
    }
  });
});

describe('inTransaction', () => {
  it('commits what two round trips wrote, COMMIT riding on the second, and returns each statement\'s rows', async () => {
    const before = await count();
    const rows = await inTransaction(sequelize, async (send) => {
      const [[one], none] = await send([literal(`INSERT INTO ${table} (id, n) VALUES (:id, 1) RETURNING id`, { id: 'a' }), `SELECT id FROM ${table} WHERE id = 'nope'`]);
      const [[two]] = await send([literal(`INSERT INTO ${table} (id, n) VALUES (:id, 2) RETURNING n`, { id: 'b' })], { commit: true });
      return { one, none, two };
    });
    expect(rows).toEqual({ one: { id: 'a' }, none: [], two: { n: 2 } });
    expect(await count()).toBe(before + 2);
  });

  it('writes nothing when a statement of the last round trip fails, and the connection serves the next query', async () => {
    const before = await count();
    await expect(
      inTransaction(sequelize, async (send) => {
        await send([literal(`INSERT INTO ${table} (id) VALUES (:id)`, { id: 'c' })]);
        // The second insert breaks the primary key: the COMMIT after it never runs.
        await send([literal(`INSERT INTO ${table} (id) VALUES (:id)`, { id: 'd' }), literal(`INSERT INTO ${table} (id) VALUES (:id)`, { id: 'a' })], { commit: true });
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await count()).toBe(before);
    await expect(inTransaction(sequelize, async (send) => (await send(['SELECT 1 AS one'], { commit: true }))[0])).resolves.toEqual([{ one: 1 }]);
  });

  it('turns a connection lost mid-transaction into ConnectionError, writes nothing, and the pool connects afresh', async () => {
    const before = await count();
    const err = await inTransaction(sequelize, async (send) => {
      const [, [{ pid }]] = await send([literal(`INSERT INTO ${table} (id) VALUES (:id)`, { id: 'f' }), 'SELECT pg_backend_pid() AS pid']);
      // Another session ends this one's backend, as a failover or an administrator would.
      await withAdmin((admin) => admin.query(`SELECT pg_terminate_backend(${Number(pid)})`));
      await send([literal(`INSERT INTO ${table} (id) VALUES (:id)`, { id: 'g' })], { commit: true });
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect(await count()).toBe(before);
    // The pool's only connection was dropped: the next query gets a new backend.
    await expect(withConnection(sequelize, async (c) => (await c.query(prepared('SELECT :one::int AS one', { one: 1 }))).rows)).resolves.toEqual([{ one: 1 }]);
  });

  it('rolls back when the caller throws between round trips', async () => {
    const before = await count();
    await expect(
      inTransaction(sequelize, async (send) => {
        await send([literal(`INSERT INTO ${table} (id) VALUES (:id)`, { id: 'e' })]);
        throw new Error('planning failed');
      }),
    ).rejects.toThrow('planning failed');
    expect(await count()).toBe(before);
  });
});
