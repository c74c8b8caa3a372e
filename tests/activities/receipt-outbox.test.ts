/**
 * The ERIS emission outbox on a PostgreSQL of its own (the switch is database-wide, so the suite's shared database,
 * where ERIS tests switch it on, cannot show the "off" state): a deployment without ERIS queues nothing; the first
 * start with ERIS queues the ledger's history once; from then on the trigger queues every new receipt.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Sequelize } from 'sequelize';
import { createRepositories, type Repositories } from '../../db/database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../db/embedded-postgres';
import { migrate } from '../../db/migrate';
import { createSequelize } from '../../db/sequelize';

jest.setTimeout(60_000);

let workDir: string;
let pg: EmbeddedPostgres;
let sequelize: Sequelize;
let repos: Repositories;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-pg-'));
  fs.chmodSync(workDir, 0o755);
  pg = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'pg'), database: 'mmm_outbox' });
  sequelize = createSequelize({ url: pg.url, poolMin: 0, poolMax: 4 });
  await migrate(sequelize);
  repos = createRepositories(sequelize);
});
afterAll(async () => {
  await sequelize?.close();
  await pg?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

const appendReceipt = (tenantId: string) =>
  sequelize.transaction((tx) => repos.ledger.append({ tenantId, decisionId: `dec_${tenantId}`, kind: 'decision', payload: { n: 1 }, createdAt: new Date() }, tx));

async function queued(): Promise<string[]> {
  const [rows] = await sequelize.query('SELECT receipt_id FROM receipt_emissions ORDER BY created_at');
  return (rows as Array<{ receipt_id: string }>).map((r) => r.receipt_id);
}

test('when ERIS has never been configured, then nothing is queued; when a start with ERIS switches it on, then the history is queued once and every later receipt by the trigger', async () => {
  const before = [await appendReceipt('t1'), await appendReceipt('t2')];
  expect(await queued()).toEqual([]);

  // Two replicas starting at once: one queues the history, the other finds it done.
  const [a, b] = await Promise.all([repos.receiptOutbox.enable(), repos.receiptOutbox.enable()]);
  expect([a, b].filter(Boolean)).toEqual([{ queued_history: 2 }]);
  expect((await queued()).sort()).toEqual(before.map((r) => r.receipt_id).sort());

  const after = await appendReceipt('t1');
  expect(await queued()).toContain(after.receipt_id);
  expect(await queued()).toHaveLength(3);
  expect(await repos.receiptOutbox.enable()).toBeNull();
});
