/**
 * `npm run bench` (part `decide_tracing`, ADR 0015): what tracing costs the decide path, in one run, in three settings
 * side by side: tracing off (no OTLP endpoint), on with `always_on`, and on with `parentbased_traceidratio` 0.1, each
 * exporting over OTLP/HTTP protobuf to a real OpenTelemetry Collector (core, built by scripts/ensure.mjs; its `nop`
 * exporter drops what it receives, and its CPU is not counted: it is not the engine's). Each setting runs in a process
 * of its own with a fresh embedded runtime, since tracing is started before the modules it instruments load. For each:
 * decide p95 at concurrency 1 and 8 and CPU ms per decision (every process of the setting but the load generator),
 * and the overhead of each traced setting over "off". Targets: <= 1% with export off, <= 10% at ratio 0.1.
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { loadConfig } from '../config/config';
import { startTracing } from '../observability/tracing';
import { VERSION } from '../workers/version';
import { startCollector } from '../tests/support/otel-collector';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const WARMUP = Math.round(200 * SCALE);
const C1 = Math.round(250 * SCALE);
const C8 = Math.round(800 * SCALE);
const SETTINGS = {
  off: {},
  always_on: { OTEL_TRACES_SAMPLER: 'always_on' },
  parentbased_traceidratio_0_1: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
} as const;
type Setting = keyof typeof SETTINGS;
const log = (m: string) => process.stderr.write(`[bench:tracing] ${m} (load ${os.loadavg()[0].toFixed(2)})\n`);

/** One setting, in this (child) process: tracing first when configured, then the runtime and the load. */
async function runSetting(): Promise<unknown> {
  const config = loadConfig();
  const tracing = startTracing(config, VERSION);
  // Loaded only now, so http, pg and ioredis are instrumented when tracing is on (as workers/main.ts does).
  const { startBenchRuntime } = await import('./bench-runtime');
  const { perOp, prepareDecideLoad, summarise } = await import('./decide-load');
  const bench = await startBenchRuntime('mmm-bench-tracing-', { SEED_DEMO: 'true', DEMO_TENANT_ID: 'bench', BUS_TYPE: 'redis' });
  try {
    const decideLoad = await prepareDecideLoad(bench.rt);
    await decideLoad(8, WARMUP);
    const c1 = await decideLoad(1, C1);
    const c8 = await decideLoad(8, C8);
    const cpu = (r: typeof c1) => {
      const all = perOp(r.cpu, r.result.latencies.length);
      return { without_load_generator: all.without_load_generator, node_api_and_worker: (all as Record<string, number>).node_api_and_worker };
    };
    return {
      tracing: tracing ? { url: tracing.url, protocol: tracing.protocol, sampler: config.OTEL_TRACES_SAMPLER, ratio: config.OTEL_TRACES_SAMPLER_ARG ?? null } : 'off',
      c1: { p95_ms: summarise(c1.result.latencies, c1.result.wallMs).p95_ms, cpu_ms_per_decision: cpu(c1) },
      c8: { p95_ms: summarise(c8.result.latencies, c8.result.wallMs).p95_ms, per_s: summarise(c8.result.latencies, c8.result.wallMs).per_s, cpu_ms_per_decision: cpu(c8) },
      load_avg_1m: os.loadavg()[0],
    };
  } finally {
    await bench.stop();
    await tracing?.shutdown();
  }
}

/** The OTLP/HTTP receiver the traced settings export to: the collector, or (without one built) a small real HTTP sink. */
async function startReceiver(): Promise<{ endpoint: string; kind: string; stop(): Promise<void> }> {
  try {
    const collector = await startCollector({ drop: true });
    return { endpoint: collector.endpoint, kind: `OpenTelemetry Collector ${collector.binary} (nop exporter)`, stop: () => collector.stop() };
  } catch (err) {
    log(`no collector (${(err as Error).message.split('\n')[0]}): exporting to a small OTLP/HTTP sink instead`);
  }
  const sink = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, kind: 'node OTLP/HTTP sink (no collector built)', stop: () => new Promise((r) => sink.close(() => r())) };
}

/** The environment without OTEL_* variables, so "off" is off whatever the caller's shell has set. */
const withoutOtel = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('OTEL_')));

/**
 * What the decide path runs with tracing off that it did not run before (ADR 0015), timed on its own: per decision
 * the server span naming, the API's trace context read, the two batch item wrappers, a service call's traceparent
 * choice and six log lines' mixin. Nanoseconds per decision, to compare with the CPU a decision costs.
 */
async function exportOffAddedWork(): Promise<{ ns_per_decision: number }> {
  const tc = await import('../observability/trace-context');
  const rounds = 200_000;
  const noop = () => Promise.resolve(1);
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    tc.nameServerSpan('POST', '/v1/mmm/decide');
    const tp = tc.activeTraceparent();
    await tc.inItemSpan('decision context', tp, noop);
    await tc.inItemSpan('decision commit', tp, noop);
    tc.traceIdOf(tp);
    for (let l = 0; l < 7; l++) tc.logTraceFields();
  }
  return { ns_per_decision: Math.round(Number(process.hrtime.bigint() - started) / rounds) };
}

const pct = (v: number, base: number) => Math.round(((v - base) / base) * 1000) / 10;

async function main(): Promise<unknown> {
  const receiver = await startReceiver();
  const results: Partial<Record<Setting, any>> = {};
  try {
    for (const [name, env] of Object.entries(SETTINGS) as Array<[Setting, Record<string, string>]>) {
      log(`setting ${name}: ${WARMUP} warm-up, ${C1} decisions at c1, ${C8} at c8`);
      const otel = name === 'off' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, ...env };
      // BENCH_CPU_PROF_DIR: a CPU profile of each setting's process, one file per thread (the workflow sandbox's too).
      const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}/${name}`] : [];
      const run = spawnSync(process.execPath, [...prof, '--import', 'tsx', __filename], {
        env: { ...withoutOtel(process.env), BENCH_TRACING_SETTING: name, ...otel },
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      if (run.status !== 0) throw new Error(`setting ${name} exited with ${run.status ?? run.signal}`);
      results[name] = JSON.parse(run.stdout);
    }
  } finally {
    await receiver.stop();
  }
  const off = results.off;
  const added = await exportOffAddedWork();
  const offCpuNs = off.c8.cpu_ms_per_decision.without_load_generator * 1e6;
  const overhead = (s: Setting) => ({
    c1_p95_pct: pct(results[s].c1.p95_ms, off.c1.p95_ms),
    c8_p95_pct: pct(results[s].c8.p95_ms, off.c8.p95_ms),
    cpu_per_decision_c8_pct: pct(results[s].c8.cpu_ms_per_decision.without_load_generator, off.c8.cpu_ms_per_decision.without_load_generator),
    cpu_per_decision_node_c8_pct: pct(results[s].c8.cpu_ms_per_decision.node_api_and_worker, off.c8.cpu_ms_per_decision.node_api_and_worker),
  });
  return {
    bench: 'decide_tracing',
    machine: { cpus: os.cpus().length, node: process.version, load_avg_at_end: os.loadavg() },
    receiver: receiver.kind,
    targets: 'overhead <= 1% with export off (the "off" setting is the baseline: no SDK started); <= 10% at parentbased_traceidratio 0.1',
    settings: results,
    export_off: { ...added, pct_of_cpu_per_decision_c8: Math.round((added.ns_per_decision / offCpuNs) * 100 * 1000) / 1000 },
    overhead_vs_off: { always_on: overhead('always_on'), parentbased_traceidratio_0_1: overhead('parentbased_traceidratio_0_1') },
  };
}

if (process.env.BENCH_TRACING_SETTING) {
  runSetting().then(
    (out) => process.stdout.write(JSON.stringify(out) + '\n'),
    (err: unknown) => {
      process.stderr.write(`[bench:tracing] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
} else {
  void import('./bench-runtime').then(({ runBench }) => runBench(main));
}
