/**
 * The decide load the benchmarks share (bench/run.ts, bench/tracing.ts): the bench tenant's policy and playbook set so
 * every decision takes the longest path, an HTTP load generator in a process of its own, and the figures' summaries.
 */
import { spawn } from 'node:child_process';
import { signDevToken } from '../api/auth';
import type { Runtime } from '../workers/runtime';
import { cpuDelta, cpuSnapshot, type CpuGroups } from './proc-cpu';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, idx)] * 10) / 10;
}

export function summarise(latencies: number[], wallMs: number) {
  const s = [...latencies].sort((a, b) => a - b);
  return {
    requests: s.length,
    p50_ms: percentile(s, 50),
    p95_ms: percentile(s, 95),
    p99_ms: percentile(s, 99),
    max_ms: percentile(s, 100),
    per_s: Math.round((s.length / wallMs) * 1000 * 10) / 10,
  };
}

/** CPU ms per operation, by process group, all processes together, and without the load generator. */
export function perOp(delta: CpuGroups, ops: number) {
  const round = (v: number) => Math.round((v / ops) * 100) / 100;
  const all = Object.values(delta).reduce((a, b) => a + b, 0);
  return {
    all_processes: round(all),
    without_load_generator: round(all - delta.load_generator),
    ...Object.fromEntries(Object.entries(delta).map(([k, v]) => [k, round(v)])),
  };
}

/**
 * The HTTP load generator: another process, like a real client, so its JSON and socket work is measured apart. One
 * process for the whole bench, given one load per line on stdin and answering each with one line on stdout, so every
 * load meets a warm client (its code compiled, its sockets open), as a service's real callers are: a process started
 * per load spent the first part of each load compiling beside the system under test, on the same two cores.
 */
export const LOAD_SCRIPT = `
const http = require('node:http');
const readline = require('node:readline');
const { url, token, signal } = JSON.parse(process.env.LOAD);
// node:http with kept-alive sockets: a WHATWG fetch per request cost this process about twice the CPU (ADR 0012), and
// every millisecond it spends is taken from the system under test on the same two cores.
const agent = new http.Agent({ keepAlive: true });
const target = new URL(url);
function post(body, retried) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer ' + token } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      res.on('error', reject);
    });
    // A kept-alive socket the server closed as idle between two loads, just as it was reused: nothing was sent on.
    req.on('error', (err) => (req.reusedSocket && err.code === 'ECONNRESET' && !retried ? post(body, true).then(resolve, reject) : reject(err)));
    req.end(body);
  });
}
async function run({ concurrency, total, offset, durationMs }) {
  const latencies = [], recorded = [], outcomes = {};
  let next = 0;
  const deadline = durationMs ? performance.now() + durationMs : Infinity;
  async function one(i) {
    const n = offset + i;
    const body = JSON.stringify({ tenant_id: 'bench', actor_id: 'actor-' + (n % 500), actor_type: n % 5 === 0 ? 'ai_agent' : 'human',
      surface: 'ide', repo_id: 'payments', branch: 'main', signal: { ...signal, signal_id: 's-' + n } });
    const t = performance.now();
    const { status, json } = await post(body);
    const ms = performance.now() - t;
    if (status !== 200) throw new Error('decide answered ' + status + ': ' + JSON.stringify(json));
    latencies.push(ms); recorded.push(json.latency_ms); outcomes[json.outcome] = (outcomes[json.outcome] || 0) + 1;
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < total && performance.now() < deadline) await one(next++); }));
  return { latencies, recorded, outcomes, wallMs: performance.now() - started };
}
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(() => run(JSON.parse(line))).then((r) => process.stdout.write(JSON.stringify(r) + '\\n'), (err) => { console.error(err); process.exit(1); });
}).on('close', () => queue.then(() => agent.destroy()));
`;

export interface LoadResult {
  latencies: number[];
  recorded: number[];
  outcomes: Record<string, number>;
  wallMs: number;
}

export type DecideLoad = (concurrency: number, total: number, durationMs?: number) => Promise<{ result: LoadResult; cpu: CpuGroups }>;

/**
 * Readies the seeded `bench` tenant for a decide load: a policy that never suppresses for fatigue, and the demo's
 * failing-builds playbook without its cool-down, so every decision runs the whole path (match, render, reserve,
 * record) and shows an action. Returns a service token signed with `jwtSecret` and the signal each request carries.
 */
export async function prepareBenchTenant(repos: Runtime['repos'], jwtSecret: string) {
  const { tenant_id: _t, version: _v, policy_snapshot_id: _p, updated_at: _u, ...policy } = await repos.policies.get('bench');
  await repos.policies.put('bench', { ...policy, max_nudges_per_window: 1000, cooldown_minutes: 0 }, 'bench');
  const builds = (await repos.playbooks.list('bench')).find((p) => p.category === 'build_health');
  if (!builds) throw new Error('the seeded build_health playbook is missing');
  const { playbook_id: id, tenant_id: _pt, version: _pv, status: _ps, published_version: _pp, created_at: _pc, updated_at: _pu, ...definition } = builds;
  await repos.playbooks.update('bench', id, { ...definition, actions: definition.actions.map((a) => ({ ...a, cooldown_minutes: 0 })) }, 'bench');
  await repos.playbooks.publish('bench', id, 'bench');
  const token = signDevToken(jwtSecret, { sub: 'bench', tenant_id: 'bench', roles: ['service'] }, 24 * 3600);
  const signal = { signal_id: 'x', source: 'ubi', kind: 'build_failures', severity: 'medium', occurred_at: new Date().toISOString(), payload: { failed_builds: 4, failing_step: 'unit-tests' } };
  return { token, signal };
}

/**
 * Readies the seeded `bench` tenant (SEED_DEMO=true, DEMO_TENANT_ID=bench) and returns its decide load, run by one
 * load generator process kept for the whole bench (it ends when this process does: its stdin closes).
 */
export async function prepareDecideLoad(rt: Runtime): Promise<DecideLoad> {
  const { token, signal } = await prepareBenchTenant(rt.repos, rt.jwtSecret);
  const child = spawn(process.execPath, ['-e', LOAD_SCRIPT], {
    env: { ...process.env, LOAD: JSON.stringify({ url: `${rt.apiUrl}/v1/mmm/decide`, token, signal }) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const pids = new Set([child.pid as number]);
  const waiting: Array<{ resolve(line: string): void; reject(err: Error): void }> = [];
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      waiting.shift()?.resolve(line);
    }
  });
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`load generator exited with ${code}`));
  });
  // The child and its pipes keep this process alive only while a load runs, not while it waits for the next.
  const handles = [child, child.stdout, child.stdin] as unknown as Array<{ ref(): void; unref(): void }>;
  const hold = (held: boolean) => handles.forEach((h) => (held ? h.ref() : h.unref()));
  hold(false);
  let offset = 0;

  return async (concurrency: number, total: number, durationMs = 0) => {
    hold(true);
    try {
      const before = cpuSnapshot(pids);
      const line = await new Promise<string>((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(JSON.stringify({ concurrency, total, offset, durationMs }) + '\n');
      });
      const cpu = cpuDelta(before, cpuSnapshot(pids));
      const result = JSON.parse(line) as LoadResult;
      offset += result.latencies.length;
      return { result, cpu };
    } finally {
      if (waiting.length === 0) hold(false);
    }
  };
}
