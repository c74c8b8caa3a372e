/**
 * `npm run bench:ubi` (also run by `npm run bench`): UBI figures on this machine, everything embedded.
 *  - events/s through `POST /v1/ubi/events` (batches of 500, sustained for BENCH_SCALE x 15 s, load from its own thread);
 *  - event-to-feature freshness: probe events sent during that load, timed until their features are stored (p50/p95);
 *  - the time recomputeBaselinesWorkflow takes for BENCH_SCALE x 10,000 actors with 28 days of history each.
 * Figures go to stdout as JSON; progress to stderr.
 */
import os from 'node:os';
import crypto from 'node:crypto';
import { Worker as Thread } from 'node:worker_threads';
import { QueryTypes } from 'sequelize';
import { signDevToken } from '../api/auth';
import { startBenchRuntime, runBench } from './bench-runtime';
import type { recomputeBaselinesWorkflow } from '../workflows/baselines/workflow';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const INGEST_SECONDS = Math.max(3, Math.round(15 * SCALE));
const WARMUP_SECONDS = 2;
const BATCH = 500;
const CONCURRENCY = 4;
const RECOMPUTE_ACTORS = Math.max(100, Math.round(10_000 * SCALE));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, idx)] * 10) / 10;
}

/** The load thread: builds realistic batches (2,000 actors, every event type) and posts them for `seconds`. */
const LOAD_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { url, token, tenant, batch, concurrency, seconds, warmup } = workerData;
const TYPES = [
  ['build_completed', () => ({ status: Math.random() < 0.15 ? 'failure' : 'success', duration_ms: 60000 + Math.floor(Math.random() * 300000) })],
  ['test_run_completed', () => { const n = 50 + Math.floor(Math.random() * 500); return { status: 'success', test_count: n, flaky_count: Math.floor(Math.random() * 3) }; }],
  ['pr_opened', (i) => ({ pr_id: 'pr-' + i, size_bucket: 'm' })],
  ['pr_review_submitted', (i) => ({ pr_id: 'pr-' + (i - 40), review_state: 'approved' })],
  ['pr_merged', (i) => ({ pr_id: 'pr-' + (i - 80), size_bucket: 'm' })],
  ['ide_session', () => ({ duration_ms: 60000 + Math.floor(Math.random() * 3600000) })],
  ['commit_pushed', () => ({})],
  ['deploy_completed', () => ({ status: 'success', duration_ms: 120000 })],
];
let seq = 0;
function body() {
  const now = Date.now();
  const events = [];
  for (let k = 0; k < batch; k++) {
    const i = seq++;
    const [type, props] = TYPES[i % TYPES.length];
    events.push({ event_id: 'ev-' + i + '-' + workerData.run, tenant_id: tenant, actor_id: 'actor-' + (i % 2000), actor_type: i % 2000 < 400 ? 'ai_agent' : 'human',
      event_type: type, occurred_at: new Date(now - Math.floor(Math.random() * 3600000)).toISOString(), source: 'bench', team_id: 'team-' + (i % 20), repo_id: 'repo-' + (i % 37), properties: props(i) });
  }
  return JSON.stringify({ events });
}
(async () => {
  const started = performance.now();
  const measureFrom = started + warmup * 1000;
  const stopAt = measureFrom + seconds * 1000;
  let accepted = 0, requests = 0, failures = 0; const latencies = [];
  let measuredStart = null;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < stopAt) {
      const b = body();
      const t = performance.now();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: b });
      const json = await res.json();
      const done = performance.now();
      if (res.status !== 202) { failures++; continue; }
      if (t >= measureFrom) { measuredStart ??= t; accepted += json.accepted; requests++; latencies.push(done - t); }
    }
  }));
  parentPort.postMessage({ accepted, requests, failures, latencies, wallMs: performance.now() - (measuredStart ?? measureFrom) });
})().catch((err) => { throw err; });
`;

async function main() {
  const log = (m: string) => process.stderr.write(`[ubi-bench] ${m}\n`);
  log('starting embedded PostgreSQL, Redis, Temporal, worker and API ...');
  const bench = await startBenchRuntime('ubi-bench-', { UBI_SCHEDULES_ENABLED: 'false' });
  const { rt, config } = bench;
  const db = rt.repos.sequelize;
  try {
    const tenant = 'bench-ubi';
    const token = signDevToken(rt.jwtSecret, { sub: 'bench', tenant_id: tenant, roles: ['service'] }, 3600);

    // Freshness probes: one event for a fresh actor every 250 ms, timed until the actor's 1 h features are stored.
    const probes: number[] = [];
    let probing = true;
    const probeLoop = (async () => {
      let n = 0;
      while (probing) {
        const actor = `probe-${n++}`;
        const started = performance.now();
        const ev = { event_id: `probe-${crypto.randomUUID()}`, tenant_id: tenant, actor_id: actor, actor_type: 'human', event_type: 'build_completed', occurred_at: new Date().toISOString(), source: 'bench', properties: { status: 'success' } };
        const res = await fetch(`${rt.apiUrl}/v1/ubi/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ events: [ev] }) });
        const answer = (await res.json()) as { accepted?: number };
        if (res.status !== 202 || answer.accepted !== 1) throw new Error(`probe ingestion answered ${res.status}: ${JSON.stringify(answer)}`);
        {
          for (;;) {
            const rows = await db.query(`SELECT 1 FROM ubi_features WHERE tenant_id = :tenant AND actor_id = :actor LIMIT 1`, { replacements: { tenant, actor }, type: QueryTypes.SELECT });
            if (rows.length) break;
            if (performance.now() - started > 120_000) throw new Error(`probe ${actor} was not turned into features within 120 s (backlog ${JSON.stringify(await rt.repos.ubi.events.backlog())}, events ${JSON.stringify(await db.query('SELECT actor_id, occurred_at, received_at FROM ubi_events WHERE actor_id = :actor', { replacements: { actor }, type: QueryTypes.SELECT }))})`);
            await new Promise((r) => setTimeout(r, 20));
          }
          probes.push(performance.now() - started);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    log(`ingesting for ${WARMUP_SECONDS} s warm-up + ${INGEST_SECONDS} s at concurrency ${CONCURRENCY}, ${BATCH} events per request`);
    const load = await new Promise<{ accepted: number; requests: number; failures: number; latencies: number[]; wallMs: number }>((resolve, reject) => {
      const t = new Thread(LOAD_THREAD, { eval: true, workerData: { url: `${rt.apiUrl}/v1/ubi/events`, token, tenant, batch: BATCH, concurrency: CONCURRENCY, seconds: INGEST_SECONDS, warmup: WARMUP_SECONDS, run: crypto.randomUUID().slice(0, 8) } });
      t.once('message', resolve);
      t.once('error', reject);
    });
    const drainStarted = performance.now();
    const backlogAtEnd = (await rt.repos.ubi.events.backlog()).pending;
    await rt.ubi.batcher?.drain();
    const drainMs = performance.now() - drainStarted;
    probing = false;
    await probeLoop;
    const lat = [...load.latencies].sort((a, b) => a - b);
    const fresh = [...probes].sort((a, b) => a - b);

    log(`generating ${RECOMPUTE_ACTORS} actors x 28 days of history for the recompute`);
    const rtenant = 'bench-recompute';
    const genStarted = performance.now();
    await db.query(
      `INSERT INTO ubi_actors (tenant_id, actor_id, actor_type, team_id, first_seen, last_seen)
       SELECT $1, 'a-' || lpad(i::text, 6, '0'), CASE WHEN i % 5 = 0 THEN 'ai_agent' ELSE 'human' END, 'team-' || (i % 200), now() - interval '30 days', now()
         FROM generate_series(1, $2) i`,
      { bind: [rtenant, RECOMPUTE_ACTORS] },
    );
    await db.query(
      `INSERT INTO ubi_feature_daily (tenant_id, actor_id, actor_type, feature, day, value)
       SELECT $1, 'a-' || lpad(i::text, 6, '0'), CASE WHEN i % 5 = 0 THEN 'ai_agent' ELSE 'human' END, f, current_date - d, random()
         FROM generate_series(1, $2) i, generate_series(1, 28) d, unnest(ARRAY['build_failure_rate', 'test_flake_rate', 'pr_cycle_time_hours']) f`,
      { bind: [rtenant, RECOMPUTE_ACTORS] },
    );
    await db.query(
      `INSERT INTO ubi_events (tenant_id, event_id, actor_id, actor_type, event_type, occurred_at, source, properties)
       SELECT $1, 'e-' || i || '-' || d || '-' || k, 'a-' || lpad(i::text, 6, '0'), CASE WHEN i % 5 = 0 THEN 'ai_agent' ELSE 'human' END, 'build_completed',
              (current_date - d)::timestamp + make_interval(hours => 8 + (i + k) % 10), 'bench', '{"status":"success"}'
         FROM generate_series(1, $2) i, generate_series(1, 28) d, generate_series(1, 2) k`,
      { bind: [rtenant, RECOMPUTE_ACTORS] },
    );
    await db.query('ANALYZE');
    const genMs = performance.now() - genStarted;
    log(`recomputing baselines of ${RECOMPUTE_ACTORS} actors through recomputeBaselinesWorkflow`);
    const recStarted = performance.now();
    const result = await rt.temporal.client.workflow.execute<typeof recomputeBaselinesWorkflow>('recomputeBaselinesWorkflow', {
      taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: `ubi-baselines/${rtenant}/bench-${crypto.randomUUID()}`, args: [{ tenant_id: rtenant }],
    });
    const recomputeMs = performance.now() - recStarted;

    const out = {
      bench: 'ubi',
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, load_average: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      setup: 'HTTP API (validation + privacy filter + one multi-row statement per batch) and the feature micro-batcher in one process; PostgreSQL, Temporal embedded on this machine',
      ingestion: {
        target: '>= 5,000 events/s sustained',
        seconds: Math.round(load.wallMs / 100) / 10,
        events_accepted: load.accepted,
        events_per_s: Math.round((load.accepted / load.wallMs) * 1000),
        requests: load.requests,
        failed_requests: load.failures,
        batch_size: BATCH,
        concurrency: CONCURRENCY,
        request_p50_ms: percentile(lat, 50),
        request_p95_ms: percentile(lat, 95),
        backlog_pairs_at_end: backlogAtEnd,
        backlog_drain_ms: Math.round(drainMs),
      },
      freshness: {
        target: 'event-to-feature p95 < 60 s (requirement); seconds intended',
        probes: fresh.length,
        p50_ms: percentile(fresh, 50),
        p95_ms: percentile(fresh, 95),
        max_ms: percentile(fresh, 100),
      },
      baseline_recompute: {
        target: '1,000 actors within 1 h (requirement)',
        actors: result.actors,
        history_rows: { feature_daily: RECOMPUTE_ACTORS * 28 * 3, events: RECOMPUTE_ACTORS * 28 * 2 },
        seconds: Math.round(recomputeMs / 100) / 10,
        actors_per_s: Math.round((result.actors / recomputeMs) * 1000),
        workflow_runs: result.runs,
        team_baselines: result.team_baselines,
        // Its last step scores every actor's open days (here yesterday, the newest history day) against the new baselines.
        open_day_signals: result.signals ?? 0,
        data_generation_seconds: Math.round(genMs / 100) / 10,
      },
    };
    return out;
  } finally {
    await bench.stop();
  }
}

runBench(main);
