/**
 * Replicas starting together on a new database sign with one key: each ledger looks for the active key and creates it
 * when there is none under one advisory lock (db/repositories/receipt-ledger.ts). On a database of its own, created
 * here on the suite's PostgreSQL, since the shared one already has its key.
 */
import crypto from 'node:crypto';
import { Client } from 'pg';
import type { Sequelize } from 'sequelize';
import { createRepositories } from '../../db/database';
import { migrate } from '../../db/migrate';
import { createSequelize } from '../../db/sequelize';
import { requireEnv } from '../support/harness';

jest.setTimeout(60_000);

const database = `signing_key_${crypto.randomUUID().slice(0, 8)}`;
const urlOf = (db: string) => {
  const url = new URL(requireEnv('TEST_DATABASE_URL'));
  url.pathname = `/${db}`;
  return url.toString();
};
async function admin(sql: string) {
  const c = new Client({ connectionString: requireEnv('TEST_DATABASE_URL') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const opened: Sequelize[] = [];
beforeAll(async () => {
  await admin(`CREATE DATABASE ${database}`);
  const first = createSequelize({ url: urlOf(database), poolMin: 0, poolMax: 2 });
  opened.push(first);
  await migrate(first);
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await admin(`DROP DATABASE IF EXISTS ${database}`);
});

it('when eight replicas ask for the signing key at once on a database without one, then all get the same key and one is stored', async () => {
  const ledgers = Array.from({ length: 8 }, () => {
    const s = createSequelize({ url: urlOf(database), poolMin: 0, poolMax: 2 });
    opened.push(s);
    return createRepositories(s).ledger;
  });
  const keys = await Promise.all(ledgers.map((l) => l.signingKey()));
  expect(new Set(keys.map((k) => k.keyId)).size).toBe(1);
  expect((await ledgers[0].publicKeys()).map((k) => k.key_id)).toEqual([keys[0].keyId]);
});
