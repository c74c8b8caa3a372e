/**
 * `npm run bench`: decide latency and throughput through the HTTP API at concurrency 1, 8 and 32, next to a no-op
 * workflow round trip on the same Temporal server, so Temporal's share of the cost is visible as a ratio.
 * Everything is local and embedded (PostgreSQL, Redis, Temporal dev server with its SQLite file). Figures go to
 * stdout as JSON; progress goes to stderr.
 */
import os from 'node:os';
import crypto from 'node:crypto';
import { Worker as Thread } from 'node:worker_threads';
import { signDevToken } from '../api/auth';
import { startBenchRuntime, runBench } from './bench-runtime';
import type { pingWorkflow } from '../workflows/ping/workflow';

const LEVELS = [1, 8, 32];
/** BENCH_SCALE (default 1) shrinks or grows every run, e.g. 0.25 for a quick look. */
const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const REQUESTS: Record<number, number> = { 1: Math.round(200 * SCALE), 8: Math.round(800 * SCALE), 32: Math.round(1600 * SCALE) };
const WARMUP = Math.round(100 * SCALE);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, idx)] * 10) / 10;
}

function summarise(latencies: number[], wallMs: number) {
  const s = [...latencies].sort((a, b) => a - b);
  return {
    requests: s.length,
    p50_ms: percentile(s, 50),
    p95_ms: percentile(s, 95),
    p99_ms: percentile(s, 99),
    max_ms: percentile(s, 100),
    throughput_per_s: Math.round((s.length / wallMs) * 1000 * 10) / 10,
  };
}

async function runLoad(concurrency: number, total: number, one: (i: number) => Promise<number>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        latencies.push(await one(i));
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

/** The load generator thread (plain JS, evaluated as a worker). */
const LOAD_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { url, token, signal, concurrency, total, offset } = workerData;
const latencies = [], recorded = [], outcomes = {};
let next = 0;
async function one(i) {
  const n = offset + i;
  const body = JSON.stringify({ tenant_id: 'bench', actor_id: 'actor-' + (n % 500), actor_type: n % 5 === 0 ? 'ai_agent' : 'human',
    surface: 'ide', repo_id: 'payments', branch: 'main', signal: { ...signal, signal_id: 's-' + n } });
  const t = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body });
  const json = await res.json();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error('decide answered ' + res.status + ': ' + JSON.stringify(json));
  latencies.push(ms); recorded.push(json.latency_ms); outcomes[json.outcome] = (outcomes[json.outcome] || 0) + 1;
}
(async () => {
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < total) await one(next++); }));
  parentPort.postMessage({ latencies, recorded, outcomes, wallMs: performance.now() - started });
})().catch((err) => { throw err; });
`;

async function main() {
  const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
  log('starting embedded PostgreSQL, Redis, Temporal, worker and API ...');
  const bench = await startBenchRuntime('mmm-bench-', { SEED_DEMO: 'true', DEMO_TENANT_ID: 'bench' });
  const { rt, config } = bench;
  try {
    // A policy that never suppresses for fatigue, so every decision runs the whole path (match, render, reserve, record).
    const { tenant_id: _t, version: _v, policy_snapshot_id: _p, updated_at: _u, ...policy } = await rt.repos.policies.get('bench');
    await rt.repos.policies.put('bench', { ...policy, max_nudges_per_window: 1000, cooldown_minutes: 0 }, 'bench');
    // The demo's failing-builds playbook without its cool-down: every decision shows an action, the longest path.
    const builds = (await rt.repos.playbooks.list('bench')).find((p) => p.category === 'build_health');
    if (!builds) throw new Error('the seeded build_health playbook is missing');
    const { playbook_id: id, tenant_id: _pt, version: _pv, status: _ps, published_version: _pp, created_at: _pc, updated_at: _pu, ...definition } = builds;
    await rt.repos.playbooks.update('bench', id, { ...definition, actions: definition.actions.map((a) => ({ ...a, cooldown_minutes: 0 })) }, 'bench');
    await rt.repos.playbooks.publish('bench', id, 'bench');
    const token = signDevToken(rt.jwtSecret, { sub: 'bench', tenant_id: 'bench', roles: ['service'] }, 3600);
    const signal = { signal_id: 'x', source: 'ubi', kind: 'build_failures', severity: 'medium', occurred_at: new Date().toISOString(), payload: { failed_builds: 4, failing_step: 'unit-tests' } };
    /**
     * The HTTP load runs in its own thread, like a real client would be another process: its JSON and socket work
     * does not share the event loop of the API and worker being measured.
     */
    const decideLoad = (concurrency: number, total: number, offset: number) =>
      new Promise<{ latencies: number[]; recorded: number[]; outcomes: Record<string, number>; wallMs: number }>((resolve, reject) => {
        const t = new Thread(LOAD_THREAD, { eval: true, workerData: { url: `${rt.apiUrl}/v1/mmm/decide`, token, signal, concurrency, total, offset } });
        t.once('message', resolve);
        t.once('error', reject);
      });
    const pingOnce = async () => {
      const t = performance.now();
      await rt.temporal.client.workflow.execute<typeof pingWorkflow>('pingWorkflow', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: `ping/${crypto.randomUUID()}`,
        requestEagerStart: true,
      });
      return performance.now() - t;
    };

    log(`warming up (${WARMUP} decisions, ${WARMUP} pings)`);
    await decideLoad(8, WARMUP, 0);
    await runLoad(8, WARMUP, pingOnce);
    const outcomes: Record<string, number> = {};
    let offset = WARMUP;

    const decide: Record<string, unknown> = {};
    const noop: Record<string, unknown> = {};
    const ratio: Record<string, unknown> = {};
    for (const c of LEVELS) {
      log(`decide at concurrency ${c} (${REQUESTS[c]} requests)`);
      const d = await decideLoad(c, REQUESTS[c], offset);
      offset += REQUESTS[c];
      for (const [k, v] of Object.entries(d.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
      const ds = summarise(d.latencies, d.wallMs);
      const recorded = [...d.recorded].sort((a, b) => a - b);
      decide[`c${c}`] = { ...ds, recorded_latency_p95_ms: percentile(recorded, 95) };
      log(`no-op workflow at concurrency ${c}`);
      const n = await runLoad(c, REQUESTS[c], pingOnce);
      const ns = summarise(n.latencies, n.wallMs);
      noop[`c${c}`] = ns;
      ratio[`c${c}`] = { p50: Math.round((ds.p50_ms / ns.p50_ms) * 100) / 100, p95: Math.round((ds.p95_ms / ns.p95_ms) * 100) / 100 };
    }

    // History size of one decision, as ops would see it.
    const [row] = await rt.repos.sequelize.query<{ workflow_id: string }>(`SELECT workflow_id FROM decisions WHERE tenant_id = 'bench' LIMIT 1`, { type: 'SELECT' as never });
    const history = await rt.temporal.client.workflow.getHandle(row.workflow_id).fetchHistory();

    const out = {
      bench: 'decide',
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      setup: 'HTTP API -> decideWorkflow (eager start, local activities) -> PostgreSQL + Redis, all embedded on this machine',
      target: 'decide p95 <= 150 ms at concurrency 8',
      decide,
      noop_workflow: noop,
      decide_over_noop: ratio,
      decision_outcomes: outcomes,
      decision_history_events: history.events?.length ?? null,
    };
    return out;
  } finally {
    await bench.stop();
  }
}

runBench(main);
