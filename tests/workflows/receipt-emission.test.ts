/**
 * ERIS emission (FR-12, ADR 0009): every receipt the ledger appends, decision receipts and any other kind, is written
 * to our ledger first and then delivered to ERIS exactly once, keyed by its receipt id, even when ERIS hangs or fails
 * for a while; the decide response never waits for it. ERIS is a real HTTP server the test starts and breaks.
 */
import { nextRetryMs } from '../../activities/eris/eris-activities';
import type { Receipt } from '../../domain/model/receipt';
import { receiptEmissionWorkflowId } from '../../workflows/receipts/contract';
import { buildFailuresPlaybook, buildFailuresSignal, decide, decideBody, newTenant, publishPlaybook } from '../component/fixtures';
import { startFakeService, type FakeService } from '../support/fake-service';
import { useTestApp } from '../support/harness';

jest.setTimeout(90_000);

/** ERIS as a real service would be: it stores a receipt once per Idempotency-Key, whatever the retries. */
let eris: FakeService;
let mode: 'hang' | 'fail' | 'up' = 'up';
const stored = new Map<string, Receipt>();
let duplicates = 0;
beforeAll(async () => {
  eris = await startFakeService((call) => {
    if (mode === 'hang') return { hang: true };
    if (mode === 'fail') return { status: 503, body: { error: 'maintenance' } };
    const key = String(call.headers['idempotency-key']);
    if (stored.has(key)) duplicates++;
    else stored.set(key, call.body as Receipt);
    return { status: 201, body: { stored: true } };
  });
});
afterAll(async () => {
  await eris?.close();
});

const app = useTestApp(() => ({
  ERIS_BASE_URL: eris.url,
  CIRCUIT_BREAKER_HALF_OPEN_MS: '500',
  RECEIPT_EMISSION_POLL_MS: '50',
  RECEIPT_EMISSION_MAX_BACKOFF_MS: '1000',
}));

afterAll(async () => {
  // The drain workflow of this test's task queue would outlive the app on the shared dev server.
  await app.runtime.temporal.client.workflow.getHandle(receiptEmissionWorkflowId(app.taskQueue)).terminate('test over').catch(() => undefined);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('when the retry schedule is asked, then it is 0.5, 1 and 2 s, then durable with a doubling capped backoff', () => {
  expect([1, 2, 3, 4, 5, 6, 7].map((n) => nextRetryMs(n, 300_000))).toEqual([500, 1000, 2000, 5000, 10_000, 20_000, 40_000]);
  expect(nextRetryMs(20, 300_000)).toBe(300_000);
});

test('when ERIS hangs and then fails for a while and comes back, then every ledger receipt arrives exactly once and decisions never wait for it', async () => {
  const fx = newTenant(app, 'eris');
  await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
  const tenantCalls = () => eris.calls.filter((c) => c.body?.tenant_id === fx.tenant);

  // 1. ERIS hangs (past its 2 s timeout): decisions answer at their usual speed all the same.
  mode = 'hang';
  const decisions: Array<{ decision_id: string }> = [];
  for (let i = 0; i < 3; i++) {
    const started = Date.now();
    const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: `a${i}`, signal: buildFailuresSignal(4) }));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    decisions.push(res.body);
  }
  // 2. ERIS fails fast; more decisions, and a receipt of another kind appended straight to the ledger.
  mode = 'fail';
  for (let i = 3; i < 6; i++) decisions.push((await decide(app, fx.service, decideBody(fx.tenant, { actor_id: `a${i}`, signal: buildFailuresSignal(4) }))).body);
  const { sequelize } = app.runtime.repos;
  const other = await sequelize.transaction((tx) =>
    app.runtime.repos.ledger.append({ tenantId: fx.tenant, decisionId: decisions[0].decision_id, kind: 'approval_transition', payload: { to: 'approved' }, createdAt: new Date() }, tx),
  );
  // The outbox is shared with the rest of the suite (its receipts are queued too): wait until each of this tenant's
  // receipts has been tried at least once (sent, or refused by the open breaker) and the breaker is open.
  let ready = { status: 0, body: { dependencies: [] as Array<{ name: string; breaker?: string }> } };
  await until('every receipt to have been tried and the breaker to open', async () => {
    const [rows] = await app.runtime.repos.sequelize.query('SELECT min(attempts) AS tried FROM receipt_emissions WHERE tenant_id = :t', { replacements: { t: fx.tenant } });
    ready = await app.request('GET', '/v1/mmm/ready');
    return Number((rows as Array<{ tried: number }>)[0].tried) >= 1 && ready.body.dependencies.some((d: { name: string; breaker?: string }) => d.name === 'eris' && d.breaker === 'open');
  }, 60_000);
  expect([...stored.values()].filter((r) => r.tenant_id === fx.tenant)).toEqual([]);
  expect(ready.status).toBe(200); // ERIS is not required: receipts wait in the outbox
  expect(ready.body.dependencies.find((d) => d.name === 'eris')).toMatchObject({ status: 'down', required: false, breaker: 'open' });
  const callsWhileDown = tenantCalls().length;

  // 3. ERIS comes back: the breaker's half-open probe succeeds and the outbox drains.
  mode = 'up';
  await until('every receipt of the tenant to be delivered', async () => (await app.runtime.repos.receiptOutbox.counts(fx.tenant)).pending === 0, 60_000);

  const ledger = await app.runtime.repos.ledger.chain(fx.tenant);
  expect(ledger).toHaveLength(7);
  const delivered = [...stored.values()].filter((r) => r.tenant_id === fx.tenant);
  expect(delivered.map((r) => r.receipt_id).sort()).toEqual(ledger.map((r) => r.receipt_id).sort());
  // What ERIS holds is byte for byte what the ledger signed (the signature still verifies), the other kind included.
  for (const r of ledger) expect(stored.get(r.receipt_id)).toEqual(r);
  expect(stored.get(other.receipt_id)?.kind).toBe('approval_transition');
  const keys = tenantCalls().map((c) => c.headers['idempotency-key']);
  expect(new Set(keys)).toEqual(new Set(ledger.map((r) => r.receipt_id)));
  expect(duplicates).toBe(0);
  expect(await app.runtime.repos.receiptOutbox.counts(fx.tenant)).toEqual({ pending: 0, delivered: 7 });

  const metrics = await app.request('GET', '/metrics');
  expect(metrics.body).toMatch(/mmm_receipt_emissions_total\{outcome="delivered"\} [1-9]/);
  expect(metrics.body).toMatch(/mmm_receipt_emissions_total\{outcome="retry_scheduled"\} [1-9]/);
  // Figures for the closing note.
  console.log(JSON.stringify({
    fault: 'eris_hang_then_503_then_back', receipts_in_ledger: ledger.length, requests_to_eris: tenantCalls().length,
    requests_while_down: callsWhileDown, receipts_stored_by_eris: delivered.length, duplicates_stored: duplicates,
  }));
});
