/**
 * `npm run bench`: every benchmark, one after another (each starts its own embedded runtime, so they never share the
 * two cores), printed as one JSON document on stdout; progress goes to stderr. `BENCH_ONLY=decide,ubi` picks parts,
 * BENCH_SCALE shrinks or grows them all. A part that fails is reported as `{error}` and the exit code is 1.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const PARTS: Record<string, string> = {
  decide: 'run.ts',
  decide_scale_out: 'scale.ts',
  decide_tracing: 'tracing.ts',
  ubi_ingestion_and_recompute: 'ubi-bench.ts',
  ubi_detection_quality: 'ubi-quality.ts',
  signal_bus: 'bus.ts',
  approvals: 'approval-bench.ts',
  tenant_metrics: 'tenant-metrics-bench.ts',
  experiments: 'experiment-bench.ts',
};

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const out: Record<string, unknown> = {};
let failed = false;
for (const [name, file] of Object.entries(PARTS)) {
  if (only && !only.includes(name)) continue;
  console.error(`[bench] ${name} (${file}) ...`);
  const started = Date.now();
  const run = spawnSync(tsx, [path.join(__dirname, file)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  try {
    if (run.status !== 0) throw new Error(`exited with ${run.status ?? run.signal}`);
    out[name] = JSON.parse(run.stdout);
  } catch (err) {
    failed = true;
    out[name] = { error: (err as Error).message, stdout_tail: run.stdout?.slice(-500) };
  }
  console.error(`[bench] ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
process.exitCode = failed ? 1 : 0;
