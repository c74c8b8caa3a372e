/**
 * PostgreSQL goes away under a running app (its own embedded PostgreSQL, so the suite's shared one is untouched):
 * `ready` answers 503 naming postgres, requests answer 503 (never 500), nothing is half-applied (every decision has
 * its receipt and outbox row; nothing from the outage is stored), and after PostgreSQL is back all works again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../db/embedded-postgres';
import { getFreePort } from '../../temporal/dev-server';
import { startTestApp, type TestApp } from '../support/harness';
import { decide, decideBody, expectEnvelope, newTenant, publishPlaybook, requestPlaybook } from './fixtures';

jest.setTimeout(120_000);

let workDir: string;
let pg: EmbeddedPostgres;
let port: number;
let app: TestApp;
const startPg = () => startEmbeddedPostgres({ dataDir: path.join(workDir, 'pg'), port, database: 'mmm_outage' });

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-pg-'));
  fs.chmodSync(workDir, 0o755);
  port = await getFreePort();
  pg = await startPg();
  app = await startTestApp({ DATABASE_URL: pg.url });
  // As a deployment with ERIS: receipts are queued for emission, and the outbox row must be as whole as the rest.
  await app.runtime.repos.receiptOutbox.enable();
});
afterAll(async () => {
  await app?.stop();
  await pg?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

it('when PostgreSQL stops, then ready is 503, requests get 503 and nothing is half-applied; when it is back, then all works again', async () => {
  const fx = newTenant(app, 'pg');
  await publishPlaybook(app, fx.admin, requestPlaybook());
  expect((await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'before' }))).body.outcome).toBe('shown');

  await pg.stop();

  const ready = await app.request('GET', '/v1/mmm/ready');
  expect(ready.status).toBe(503);
  expect(ready.body.dependencies.find((d: { name: string }) => d.name === 'postgres')).toMatchObject({ status: 'down', required: true });
  const attempts = [
    await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'during' }), { 'Idempotency-Key': 'outage-1' }),
    await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: { max_nudges_per_window: 7 } }),
    await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook({}, { name: 'during outage' }) }),
  ];
  for (const res of attempts) {
    expect(res.status).toBe(503);
    expectEnvelope(res.body);
  }

  pg = await startPg();
  await waitFor(async () => (await app.request('GET', '/v1/mmm/ready')).status === 200);

  // Nothing of the outage is stored, and what is stored is whole: each decision with its receipt and outbox row.
  const { sequelize } = app.runtime.repos;
  const [rows] = await sequelize.query(
    `SELECT (SELECT count(*) FROM decisions WHERE tenant_id = :t) AS decisions,
            (SELECT count(*) FROM receipts WHERE tenant_id = :t) AS receipts,
            (SELECT count(*) FROM receipt_emissions WHERE tenant_id = :t) AS outbox,
            (SELECT count(*) FROM playbooks WHERE tenant_id = :t) AS playbooks,
            (SELECT count(*) FROM tenant_policies WHERE tenant_id = :t) AS policies`,
    { replacements: { t: fx.tenant } },
  );
  expect((rows as Array<Record<string, string>>)[0]).toEqual({ decisions: '1', receipts: '1', outbox: '1', playbooks: '1', policies: '0' });

  // The request refused during the outage, retried with its key, is decided once.
  const retried = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'during' }), { 'Idempotency-Key': 'outage-1' });
  expect(retried.status).toBe(200);
  expect(retried.body.outcome).toBe('shown');
  expect(await app.runtime.repos.ledger.chain(fx.tenant)).toHaveLength(2);
  console.log(JSON.stringify({ fault: 'postgres_stopped', requests_during_outage: attempts.length, answered_503: attempts.filter((r) => r.status === 503).length, rows_written_during_outage: 0, decisions_after: 2, receipts_after: 2 }));
});

async function waitFor(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out');
}
