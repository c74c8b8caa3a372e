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

/** The HTTP load generator: another process, like a real client, so its JSON and socket work is measured apart. */
export const LOAD_SCRIPT = `
const http = require('node:http');
const { url, token, signal, concurrency, total, offset, durationMs } = JSON.parse(process.env.LOAD);
const latencies = [], recorded = [], outcomes = {};
let next = 0;
const deadline = durationMs ? performance.now() + durationMs : Infinity;
// node:http with one kept-alive socket per concurrent caller: a WHATWG fetch per request cost this process about twice
// the CPU (ADR 0012), and every millisecond it spends is taken from the system under test on the same two cores.
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);
function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer ' + token } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
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
(async () => {
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < total && performance.now() < deadline) await one(next++); }));
  agent.destroy();
  process.stdout.write(JSON.stringify({ latencies, recorded, outcomes, wallMs: performance.now() - started }));
})().catch((err) => { console.error(err); process.exit(1); });
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

/** Readies the seeded `bench` tenant (SEED_DEMO=true, DEMO_TENANT_ID=bench) and returns its decide load. */
export async function prepareDecideLoad(rt: Runtime): Promise<DecideLoad> {
  const { token, signal } = await prepareBenchTenant(rt.repos, rt.jwtSecret);
  let offset = 0;

  return (concurrency: number, total: number, durationMs = 0) =>
    new Promise<{ result: LoadResult; cpu: CpuGroups }>((resolve, reject) => {
      const load = { url: `${rt.apiUrl}/v1/mmm/decide`, token, signal, concurrency, total, offset, durationMs };
      const child = spawn(process.execPath, ['-e', LOAD_SCRIPT], { env: { ...process.env, LOAD: JSON.stringify(load) }, stdio: ['ignore', 'pipe', 'inherit'] });
      const pids = new Set([child.pid as number]);
      const before = cpuSnapshot(pids);
      let out = '';
      let after: CpuGroups | undefined;
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        // Read before the child exits: a process that has exited has no /proc entry left to read.
        if (!after && out.endsWith('}')) after = cpuSnapshot(pids);
      });
      child.once('exit', (code) => {
        if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
        const result = JSON.parse(out) as LoadResult;
        offset += result.latencies.length;
        resolve({ result, cpu: cpuDelta(before, after ?? cpuSnapshot(pids)) });
      });
    });
}
