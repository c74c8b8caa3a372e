/**
 * `npm run bench` (part `experiments`, issue 9): decide p95 with an active experiment on the matched playbook against
 * the same decisions without one, in the same run on the same runtime. Two tenants get the same playbook and policy;
 * one also gets an active thompson experiment (a control arm, an arm overriding the wording and priority, and a
 * holdout). One load generator sends the two tenants' decisions interleaved (even requests to one, odd to the other),
 * so whatever else loads a shared machine hits both alike at the same moments. Target: ≤ 5% slower.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { signDevToken } from '../api/auth';
import { startBenchRuntime, runBench } from './bench-runtime';
import { percentile } from './decide-load';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const ROUNDS = 6;
const PER_ROUND = Math.round(800 * SCALE);
const CONCURRENCY = 8;
const log = (m: string) => process.stderr.write(`[bench:experiments] ${m} (load ${os.loadavg()[0].toFixed(2)})\n`);

/** The load generator, a process of its own (as bench/run.ts does), for one tenant. */
const LOAD_SCRIPT = `
const { url, tenants, concurrency, total, offset } = JSON.parse(process.env.LOAD);
const latencies = { with: [], without: [] }, outcomes = { with: {}, without: {} };
let next = 0;
async function one(i) {
  const n = offset + i;
  const which = n % 2 === 0 ? 'with' : 'without';
  const { tenant, token } = tenants[which];
  const body = JSON.stringify({ tenant_id: tenant, actor_id: 'actor-' + (n % 500), actor_type: 'human', surface: 'ide', repo_id: 'payments', branch: 'main',
    signal: { signal_id: 's-' + n, source: 'ubi', kind: 'build_failures', severity: 'medium', occurred_at: new Date().toISOString(), payload: { failed_builds: 4 } } });
  const t = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body });
  const json = await res.json();
  if (res.status !== 200) throw new Error('decide answered ' + res.status + ': ' + JSON.stringify(json));
  latencies[which].push(performance.now() - t);
  const key = json.actions.some((a) => a.experiment) ? 'experiment_action' : json.suppressed.some((s) => s.reason === 'experiment_holdout') ? 'holdout' : json.outcome;
  outcomes[which][key] = (outcomes[which][key] || 0) + 1;
}
(async () => {
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < total) await one(next++); }));
  process.stdout.write(JSON.stringify({ latencies, outcomes }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

async function main() {
  log('starting the embedded runtime ...');
  const bench = await startBenchRuntime('mmm-bench-exp-', { BUS_TYPE: 'memory', SIGNAL_CONSUMER_ENABLED: 'false' });
  const { rt } = bench;
  try {
    const api = async (token: string, method: string, path: string, body?: unknown): Promise<any> => {
      const res = await fetch(`${rt.apiUrl}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = await res.json();
      if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };
    const setUp = async (tenant: string, withExperiment: boolean) => {
      const admin = signDevToken(rt.jwtSecret, { sub: 'bench-admin', tenant_id: tenant, roles: ['tenant_admin'] }, 24 * 3600);
      await api(admin, 'PUT', `/v1/mmm/tenants/${tenant}/policy`, { max_nudges_per_window: 1000, cooldown_minutes: 0 });
      const pb = await api(admin, 'POST', '/v1/mmm/playbooks', {
        name: 'Build failures mirror', category: 'build_health',
        triggers: [{ source: 'ubi', kind: 'build_failures', min_severity: 'low' }],
        conditions: [{ field: 'signal.payload.failed_builds', op: 'gte', value: 3 }],
        actions: [{ type: 'mirror', title: 'Builds on {{branch}}', body: '{{signal.payload.failed_builds}} builds on {{branch}} failed today.', surfaces: ['ide', 'pr', 'ci'], cooldown_minutes: 0 }],
      });
      await api(admin, 'POST', `/v1/mmm/playbooks/${pb.playbook_id}/publish`);
      if (withExperiment) {
        const exp = await api(admin, 'POST', '/v1/mmm/experiments', {
          name: 'Wording', playbook_id: pb.playbook_id, strategy: 'thompson', burn_in: 50,
          arms: [
            { arm_id: 'control', weight: 1 },
            { arm_id: 'short', weight: 1, overrides: [{ action_index: 0, title: 'Failed builds on {{branch}}', priority: 60 }] },
            { arm_id: 'holdout', weight: 0.2, holdout: true },
          ],
        });
        await api(admin, 'POST', `/v1/mmm/experiments/${exp.experiment_id}/activate`);
      }
      return signDevToken(rt.jwtSecret, { sub: 'bench', tenant_id: tenant, roles: ['service'] }, 24 * 3600);
    };
    const tenants = { without: { tenant: 'bench-plain', token: await setUp('bench-plain', false) }, with: { tenant: 'bench-exp', token: await setUp('bench-exp', true) } };
    let offset = 0;
    type Load = { latencies: Record<'with' | 'without', number[]>; outcomes: Record<'with' | 'without', Record<string, number>> };
    const load = (total: number) =>
      new Promise<Load>((resolve, reject) => {
        const env = { url: `${rt.apiUrl}/v1/mmm/decide`, tenants, concurrency: CONCURRENCY, total, offset };
        offset += total;
        const child = spawn(process.execPath, ['-e', LOAD_SCRIPT], { env: { ...process.env, LOAD: JSON.stringify(env) }, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited with ${code}`))));
      });

    log('warming up both tenants');
    await load(PER_ROUND);
    const all = { with: [] as number[], without: [] as number[] };
    const outcomes = { with: {} as Record<string, number>, without: {} as Record<string, number> };
    for (let r = 0; r < ROUNDS; r++) {
      log(`round ${r + 1}/${ROUNDS}: ${PER_ROUND} decisions at concurrency ${CONCURRENCY}, the two tenants interleaved`);
      const res = await load(PER_ROUND);
      for (const which of ['with', 'without'] as const) {
        all[which].push(...res.latencies[which]);
        for (const [k, v] of Object.entries(res.outcomes[which])) outcomes[which][k] = (outcomes[which][k] ?? 0) + v;
      }
    }
    const sum = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { requests: s.length, p50_ms: percentile(s, 50), p95_ms: percentile(s, 95), p99_ms: percentile(s, 99) };
    };
    const withExp = sum(all.with);
    const without = sum(all.without);
    return {
      bench: 'experiments',
      machine: { cpus: os.cpus().length, node: process.version, load_avg_at_end: os.loadavg() },
      setup: `decide over HTTP at concurrency ${CONCURRENCY}, ${ROUNDS} rounds of ${PER_ROUND} decisions with the two tenants interleaved request by request; same playbook and policy; one tenant with an active thompson experiment (control, override, holdout)`,
      target: 'decide p95 with an active experiment <= 1.05 x without',
      without_experiment: without,
      with_experiment: withExp,
      p95_ratio: Math.round((withExp.p95_ms / without.p95_ms) * 1000) / 1000,
      p50_ratio: Math.round((withExp.p50_ms / without.p50_ms) * 1000) / 1000,
      outcomes,
    };
  } finally {
    await bench.stop();
  }
}

runBench(main);
