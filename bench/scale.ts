/**
 * `npm run bench` (part `scale`, issue 13 "Scale past one machine"): the tiers as separate processes on this machine
 * against one Temporal dev server, one PostgreSQL and one Redis, as `deploy/` runs them:
 *  1. one API process (RUN_WORKER=false) and one worker process (RUN_API=false), decide at concurrency 32;
 *  2. two of each, the load spread over both APIs, the same concurrency: how throughput changes, and which worker ran
 *     the decision workflows' tasks (read from the shard workflows' histories: each task names its worker);
 *  3. two of each again, and one worker killed (SIGKILL) in the middle of the load: every request carries an
 *     Idempotency-Key and is retried on anything but 200, and afterwards every key has exactly one decision and one
 *     receipt, and the survivor ran the dead worker's shards.
 * Figures go to stdout as JSON; progress to stderr. BENCH_SCALE shrinks each phase.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { seedDemoTenant } from '../db/seed-demo';
import { startRedisServer } from '../workers/embedded-redis';
import { runBench, startBenchRuntime } from './bench-runtime';
import { prepareBenchTenant } from './decide-load';
import { cpuDelta, cpuSnapshot } from './proc-cpu';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const PHASE_MS = Math.round(30_000 * SCALE);
const CONCURRENCY = 32;
/**
 * The tiers' DECISION_MAX_RUN_AGE_MS (default 5 minutes): a shard stays on the worker that has it cached until its run
 * continues as new, so a worker added to the tier takes its share only then. Shortened here so that phase 2's warm-up
 * outlasts it.
 */
const MAX_RUN_AGE_MS = Math.round(PHASE_MS / 2);
/**
 * Each API process keeps this many Updates in flight per shard workflow. The server refuses more than 10 per workflow
 * whichever process sends them, and the SDK retries a refusal only after about a second, so with two API processes
 * each keeps at most 5 (deploy/README.md: k API processes, at most 10 / k each). Measured with the default 8: the two
 * processes decided half as much as one (118 against 245/s, p95 1.2 s).
 */
const IN_FLIGHT_PER_SHARD = 5;
const log = (m: string) => process.stderr.write(`[bench scale] ${m} (load ${os.loadavg()[0].toFixed(2)})\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] * 10) / 10;
}

/** The load generator, a process of its own: round-robin over the API URLs, an Idempotency-Key per request, retried on anything but 200. */
const LOAD_SCRIPT = `
const { urls, token, signal, concurrency, durationMs, prefix } = JSON.parse(process.env.LOAD);
const latencies = [], retried = {}, keys = [];
let next = 0;
const deadline = performance.now() + durationMs;
async function one(n) {
  const key = prefix + '-' + n;
  const body = JSON.stringify({ tenant_id: 'bench', actor_id: 'actor-' + (n % 500), actor_type: 'human', surface: 'ide', repo_id: 'payments', branch: 'main', signal: { ...signal, signal_id: key } });
  const t = performance.now();
  for (let attempt = 0; ; attempt++) {
    const url = urls[(n + attempt) % urls.length];
    let status = 0;
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token, 'idempotency-key': key }, body });
      status = res.status;
      await res.arrayBuffer();
    } catch (err) { status = 'network'; }
    if (status === 200) break;
    retried[status] = (retried[status] || 0) + 1;
    if (attempt > 50) throw new Error('request ' + key + ' failed 50 times, last ' + status);
    await new Promise((r) => setTimeout(r, 200));
  }
  latencies.push(performance.now() - t);
  keys.push(key);
}
(async () => {
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (performance.now() < deadline) await one(next++); }));
  process.stdout.write(JSON.stringify({ latencies, retried, keys, wallMs: performance.now() - started }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

interface LoadResult {
  latencies: number[];
  retried: Record<string, number>;
  keys: string[];
  wallMs: number;
}

interface Tier {
  proc: ChildProcess;
  role: 'api' | 'worker';
  url: string;
  /** The Temporal SDK's default worker identity: `<pid>@<hostname>`. */
  identity: string;
}

async function main() {
  log('starting embedded PostgreSQL, Redis and Temporal ...');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmm-bench-scale-redis-'));
  const redis = await startRedisServer({ dataDir });
  // This process holds the shared infrastructure and seeds the tenant; it runs neither the API nor a worker.
  const bench = await startBenchRuntime('mmm-bench-scale-', { SEED_DEMO: 'false', REDIS_URL: redis.url, RUN_API: 'false', RUN_WORKER: 'false', METRICS_PORT: '0' });
  const { rt, config } = bench;
  // The holder runs no API, so it has no token secret: every tier gets this one.
  const jwtSecret = crypto.randomBytes(32).toString('base64url');
  const tiers: Tier[] = [];
  const tierEnv = {
    DATABASE_URL: rt.databaseUrl,
    REDIS_URL: redis.url,
    TEMPORAL_ADDRESS: rt.temporalAddress,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    AUTH_JWT_SECRET: jwtSecret,
    DATA_DIR: config.dataDir,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    UBI_SCHEDULES_ENABLED: 'false',
    SIGNAL_CONSUMER_ENABLED: 'false',
    UBI_BUS_INGESTION_ENABLED: 'false',
    DECISION_MAX_RUN_AGE_MS: String(MAX_RUN_AGE_MS),
    DECISION_MAX_IN_FLIGHT_PER_SHARD: String(IN_FLIGHT_PER_SHARD),
  };
  const startTier = (role: 'api' | 'worker'): Promise<Tier> =>
    new Promise((resolve, reject) => {
      const env = role === 'api' ? { RUN_WORKER: 'false', PORT: '0', TEMPORAL_EAGER_START: 'false' } : { RUN_API: 'false', METRICS_PORT: '0' };
      // node itself runs the tier (tsx as a loader), so SIGKILL hits the worker, not a wrapper around it.
      const proc = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], { env: { ...process.env, ...tierEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const onData = (b: Buffer) => {
        out += b.toString();
        const url = out.match(role === 'api' ? /API:\s+(http:\/\/\S+)/ : /Ops:\s+(http:\/\/[^/\s]+)/)?.[1];
        if (url && out.includes('is running')) {
          proc.stdout?.off('data', onData);
          proc.stderr?.off('data', onData);
          const tier = { proc, role, url, identity: `${proc.pid}@${os.hostname()}` };
          tiers.push(tier);
          resolve(tier);
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`${role} process exited (${code}) before it was running:\n${out}`)));
    });
  const stopTier = async (t: Tier, signal: NodeJS.Signals = 'SIGTERM') => {
    if (t.proc.exitCode !== null || t.proc.signalCode !== null) return;
    const exited = new Promise((r) => t.proc.once('exit', r));
    t.proc.kill(signal);
    await exited;
  };

  try {
    await seedDemoTenant(rt.repos, 'bench');
    const { token, signal } = await prepareBenchTenant(rt.repos, jwtSecret);

    const load = (apis: Tier[], prefix: string, durationMs: number, during?: () => Promise<void>) =>
      new Promise<{ result: LoadResult; cpuMs: number }>((resolve, reject) => {
        const spec = { urls: apis.map((a) => `${a.url}/v1/mmm/decide`), token, signal, concurrency: CONCURRENCY, durationMs, prefix };
        const child = spawn(process.execPath, ['-e', LOAD_SCRIPT], { env: { ...process.env, LOAD: JSON.stringify(spec) }, stdio: ['ignore', 'pipe', 'inherit'] });
        const pids = new Set([child.pid as number]);
        const before = cpuSnapshot(pids);
        let out = '';
        let after: ReturnType<typeof cpuSnapshot> | undefined;
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (!after && out.endsWith('}')) after = cpuSnapshot(pids);
        });
        const side = during?.().catch(reject);
        child.once('exit', (code) => {
          if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
          void Promise.resolve(side).then(() => {
            const delta = cpuDelta(before, after ?? cpuSnapshot(pids));
            resolve({ result: JSON.parse(out) as LoadResult, cpuMs: Object.entries(delta).reduce((a, [k, v]) => a + (k === 'load_generator' ? 0 : v), 0) });
          });
        });
      });
    const summary = ({ result, cpuMs }: { result: LoadResult; cpuMs: number }) => {
      const s = [...result.latencies].sort((a, b) => a - b);
      return {
        requests: s.length,
        per_s: Math.round((s.length / result.wallMs) * 10_000) / 10,
        decisions_per_minute: Math.round((s.length / result.wallMs) * 60_000),
        p50_ms: percentile(s, 50),
        p95_ms: percentile(s, 95),
        retried_by_status: result.retried,
        cpu_ms_per_decision_without_load_generator: Math.round((cpuMs / s.length) * 100) / 100,
        load_avg_1m: os.loadavg()[0],
      };
    };

    /** Which worker ran the shard workflows' tasks since `sinceMs`: workflow tasks and shards per identity, from every run's history. */
    const tasksByWorker = async (sinceMs: number) => {
      const byIdentity: Record<string, { workflow_tasks: number; shards: Set<string> }> = {};
      for await (const wf of rt.temporal.client.workflow.list({ query: `WorkflowType = 'decisionShardWorkflow' AND MmmTenantId = 'bench'` })) {
        const history = await rt.temporal.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        for (const e of history.events ?? []) {
          const started = e.workflowTaskStartedEventAttributes;
          const at = Number(String(e.eventTime?.seconds ?? 0)) * 1000;
          if (!started?.identity || at < sinceMs) continue;
          const w = (byIdentity[started.identity] ??= { workflow_tasks: 0, shards: new Set() });
          w.workflow_tasks++;
          w.shards.add(wf.workflowId);
        }
      }
      return byIdentity;
    };
    const named = (by: Awaited<ReturnType<typeof tasksByWorker>>, workers: Tier[]) =>
      Object.fromEntries(
        Object.entries(by).map(([identity, w]) => [workers.find((t) => t.identity === identity) ? `worker_${workers.findIndex((t) => t.identity === identity) + 1}` : identity, { workflow_tasks: w.workflow_tasks, shards: w.shards.size }]),
      );

    log('phase 1: one API process and one worker process');
    const worker1 = await startTier('worker');
    const api1 = await startTier('api');
    await load([api1], 'warm', Math.round(5_000 * SCALE));
    const one = summary(await load([api1], 'one', PHASE_MS));

    log('phase 2: two API processes and two worker processes');
    const worker2 = await startTier('worker');
    const api2 = await startTier('api');
    // Longer than a shard run's maximum age: every shard has continued as new at least once, onto either worker.
    await load([api1, api2], 'warm2', Math.round(MAX_RUN_AGE_MS * 1.4));
    const phase2Started = Date.now();
    const two = summary(await load([api1, api2], 'two', PHASE_MS));
    const shared = named(await tasksByWorker(phase2Started), [worker1, worker2]);

    // The worker that ran more of phase 2's shards is the one killed.
    const [victim, survivor] = (shared.worker_2?.shards ?? 0) > (shared.worker_1?.shards ?? 0) ? [worker2, worker1] : [worker1, worker2];
    log(`phase 3: two of each, the busier worker killed (SIGKILL) half-way through the load`);
    const phase3Started = Date.now();
    let killedAt = 0;
    const killRun = await load([api1, api2], 'kill', PHASE_MS, async () => {
      await new Promise((r) => setTimeout(r, PHASE_MS / 2));
      killedAt = Date.now();
      await stopTier(victim, 'SIGKILL');
      log('worker killed');
    });
    const keys = killRun.result.keys;
    const [counts] = await rt.repos.sequelize.query<{ decisions: number; keys: number; receipts: number }>(
      `SELECT count(*)::int AS decisions, count(DISTINCT d.idempotency_key)::int AS keys,
              (SELECT count(*)::int FROM receipts r WHERE r.tenant_id = 'bench' AND r.decision_id IN (SELECT decision_id FROM decisions WHERE tenant_id = 'bench' AND idempotency_key LIKE 'kill-%')) AS receipts
         FROM decisions d WHERE d.tenant_id = 'bench' AND d.idempotency_key LIKE 'kill-%'`,
      { type: QueryTypes.SELECT },
    );
    const afterKill = named(await tasksByWorker(killedAt + 1), [worker1, worker2]);
    const beforeKill = await tasksByWorker(phase3Started);
    const deadShards = beforeKill[victim.identity]?.shards ?? new Set<string>();
    const survivorShards = (await tasksByWorker(killedAt + 1))[survivor.identity]?.shards ?? new Set<string>();

    return {
      bench: 'scale',
      machine: { cpus: os.cpus().length, node: process.version, load_avg_at_end: os.loadavg() },
      setup: `separate API (RUN_WORKER=false) and worker (RUN_API=false) processes, one Temporal dev server, PostgreSQL and Redis; ${config.DECISION_SHARDS} shards per tenant; concurrency ${CONCURRENCY} over ${PHASE_MS} ms per phase, DECISION_MAX_RUN_AGE_MS=${MAX_RUN_AGE_MS}, DECISION_MAX_IN_FLIGHT_PER_SHARD=${IN_FLIGHT_PER_SHARD} in every API process, Idempotency-Key on every request, retried on anything but 200`,
      one_api_one_worker: one,
      two_apis_two_workers: { ...two, throughput_vs_one_of_each: Math.round((two.per_s / one.per_s) * 100) / 100, workflow_tasks_by_worker: shared },
      worker_killed: {
        killed: victim === worker1 ? 'worker_1' : 'worker_2',
        // A killed process leaves /proc with its CPU time: this phase's CPU per decision cannot be read.
        ...summary(killRun),
        cpu_ms_per_decision_without_load_generator: null,
        answered_200: keys.length,
        decisions_for_those_keys: counts.decisions,
        distinct_keys_decided: counts.keys,
        receipts: counts.receipts,
        lost: keys.length - counts.keys,
        decided_twice: counts.decisions - counts.keys,
        killed_worker_shards_before_kill: deadShards.size,
        those_shards_run_by_the_survivor_after_kill: [...deadShards].filter((s) => survivorShards.has(s)).length,
        workflow_tasks_by_worker_after_kill: afterKill,
      },
    };
  } finally {
    await Promise.all(tiers.map((t) => stopTier(t)));
    await bench.stop();
    await redis.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
