/**
 * retryTransient against the suite's real PostgreSQL: two transactions that lock the same two rows in opposite order
 * deadlock, PostgreSQL aborts one (40P01), and that one runs again and commits instead of failing its request.
 */
import { randomUUID } from 'node:crypto';
import type { Sequelize } from 'sequelize';
import { createSequelize } from '../../db/sequelize';
import { isTransientDatabaseError, retryTransient } from '../../db/transient';
import { requireEnv } from '../support/harness';

let db: Sequelize;
const table = `deadlock_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
beforeAll(async () => {
  db = createSequelize({ url: requireEnv('TEST_DATABASE_URL'), poolMin: 0, poolMax: 4 });
  await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL)`);
  await db.query(`INSERT INTO ${table} VALUES (1, 0), (2, 0)`);
});
afterAll(async () => {
  await db.query(`DROP TABLE ${table}`);
  await db.close();
});

/** Locks `first`, waits until the other side holds its row too, then wants `second`. */
function crossing(first: number, second: number, bothHold: Promise<unknown>, holding: () => void, tries: { n: number }) {
  return () =>
    db.transaction(async (transaction) => {
      tries.n++;
      await db.query(`UPDATE ${table} SET n = n + 1 WHERE id = ${first}`, { transaction });
      if (tries.n === 1) {
        holding();
        await bothHold;
      }
      await db.query(`UPDATE ${table} SET n = n + 1 WHERE id = ${second}`, { transaction });
    });
}

it('when two transactions deadlock, then without a retry one fails with 40P01, and with retryTransient both commit', async () => {
  const run = async (wrap: (f: () => Promise<void>) => Promise<void>) => {
    let a!: () => void;
    let b!: () => void;
    const both = Promise.all([new Promise<void>((r) => (a = r)), new Promise<void>((r) => (b = r))]);
    const [ta, tb] = [{ n: 0 }, { n: 0 }];
    const results = await Promise.allSettled([wrap(crossing(1, 2, both, a, ta)), wrap(crossing(2, 1, both, b, tb))]);
    return { results, tries: ta.n + tb.n };
  };

  const plain = await run((f) => f());
  const failures = plain.results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(failures).toHaveLength(1);
  expect(isTransientDatabaseError(failures[0].reason)).toBe(true);

  const retried = await run((f) => retryTransient(f));
  expect(retried.results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  expect(retried.tries).toBe(3); // the victim ran twice
  const [rows] = await db.query(`SELECT sum(n)::int AS total FROM ${table}`);
  // plain: one transaction committed its 2 updates; retried: both did, 4 more.
  expect((rows as Array<{ total: number }>)[0].total).toBe(6);
});

it('when an error is not a deadlock or serialization failure, then retryTransient does not run it again', async () => {
  let tries = 0;
  await expect(retryTransient(async () => { tries++; await db.query('SELECT 1/0'); })).rejects.toThrow(/division by zero/);
  expect(tries).toBe(1);
});
