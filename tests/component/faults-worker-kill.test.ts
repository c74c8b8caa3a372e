/**
 * The worker is killed (SIGKILL, a separate process) in the middle of a decision: after another worker takes over,
 * the decision completes with exactly one decision row and one receipt, and the caller gets it. The decision is held
 * mid-flight by a slow UBI service (a real HTTP server) so the kill lands inside its context activity.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeService, type FakeService } from '../support/fake-service';
import { requireEnv, startTestApp, uniqueId, type TestApp } from '../support/harness';
import { decide, decideBody, newTenant, publishPlaybook, requestPlaybook } from './fixtures';

jest.setTimeout(120_000);

const taskQueue = uniqueId('tq-kill');
let ubi: FakeService;
let api: TestApp;
let rescuer: TestApp | undefined;
let child: ChildProcess | undefined;
let dataDir: string;

const workerEnv = (ubiUrl: string) => ({
  DATABASE_URL: requireEnv('TEST_DATABASE_URL'),
  REDIS_URL: requireEnv('TEST_REDIS_URL'),
  TEMPORAL_ADDRESS: requireEnv('TEST_TEMPORAL_ADDRESS'),
  TEMPORAL_TASK_QUEUE: taskQueue,
  UBI_BASE_URL: ubiUrl,
  CONTEXT_CACHE_TTL_MS: '0',
  SEED_DEMO: 'false',
  LOG_LEVEL: 'warn',
});

/** A worker-only process (RUN_API=false), as deployed; resolves once it reports it is running. */
function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  // node itself runs the worker (tsx as a loader), so SIGKILL hits the worker and not a wrapper around it.
  const proc = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, ...env, RUN_API: 'false', METRICS_PORT: '0', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('is running')) resolve(proc);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`worker process exited (${code}) before it was running:\n${out}`)));
  });
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-kill-'));
  ubi = await startFakeService(() => ({ body: { signals: [] }, delayMs: 800 }));
  child = await startWorkerProcess(workerEnv(ubi.url));
  // The API alone: decisions go to the task queue, where only the child process polls.
  api = await startTestApp({ TEMPORAL_TASK_QUEUE: taskQueue, RUN_WORKER: 'false' });
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await rescuer?.stop();
  await api?.stop();
  await ubi?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('when the worker is killed mid-decision, then after a new worker takes over the decision completes once, with one receipt', async () => {
  const fx = newTenant(api, 'kill');
  await publishPlaybook(api, fx.admin, requestPlaybook());
  const body = decideBody(fx.tenant, { actor_id: 'a1' });
  const started = Date.now();
  const pending = decide(api, fx.service, body, { 'Idempotency-Key': 'kill-1' });

  // Wait until the decision is inside its context activity on the child (UBI has been called), then kill the child.
  while (ubi.calls.length === 0) {
    if (Date.now() - started > 20_000) throw new Error('the decision never reached the worker');
    await new Promise((r) => setTimeout(r, 20));
  }
  child?.kill('SIGKILL');
  await new Promise((r) => child?.once('exit', r));
  const killedAtMs = Date.now() - started;
  ubi.setHandler(() => ({ body: { signals: [] } }));

  // Another worker on the same task queue (in this process) takes the decision over after its workflow task times out.
  rescuer = await startTestApp({ TEMPORAL_TASK_QUEUE: taskQueue, RUN_API: 'false', UBI_BASE_URL: ubi.url, CONTEXT_CACHE_TTL_MS: '0' });
  let res = await pending;
  if (res.status === 503) res = await decide(api, fx.service, body, { 'Idempotency-Key': 'kill-1' }); // waited past the API's limit
  expect(res.status).toBe(200);
  expect(res.body.outcome).toBe('shown');
  // The killed attempt called UBI, and so did the worker that took over: the decision really ran twice.
  expect(ubi.calls.length).toBe(2);
  const completedMs = Date.now() - started;

  const receipts = await api.runtime.repos.ledger.chain(fx.tenant);
  expect(receipts.map((r) => r.decision_id)).toEqual([res.body.decision_id]);
  expect(receipts[0].receipt_id).toBe(res.body.receipt_id);
  const [rows] = await api.runtime.repos.sequelize.query('SELECT count(*) AS n FROM decisions WHERE tenant_id = :t', { replacements: { t: fx.tenant } });
  expect((rows as Array<{ n: string }>)[0].n).toBe('1');
  // A retry under the same key returns the stored decision: still one.
  const again = await decide(api, fx.service, body, { 'Idempotency-Key': 'kill-1' });
  expect(again.body.decision_id).toBe(res.body.decision_id);
  expect(await api.runtime.repos.ledger.chain(fx.tenant)).toHaveLength(1);
  console.log(JSON.stringify({ fault: 'worker_sigkill_mid_decision', killed_at_ms: killedAtMs, completed_at_ms: completedMs, context_attempts: ubi.calls.length, decisions: 1, receipts: receipts.length }));
});
