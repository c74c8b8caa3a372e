/**
 * `npm run bench` (second part): the multiplier approval path.
 *  - time from the second approval to `executed` (policy re-check, delegation to a real HTTP edge agent started here,
 *    receipts), p50/p95 over a few dozen dual-channel actions;
 *  - memory of the process running the worker (and API) with 0, 1,000 and 10,000 open approval workflows, each
 *    waiting on its timer, started through the Temporal client. The worker's sticky cache is capped
 *    (maxCachedWorkflows), so memory should stay flat: an open approval costs nothing in the worker once evicted.
 * BENCH_SCALE (default 1) scales every count. Figures go to stdout as JSON; progress goes to stderr.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { signDevToken } from '../api/auth';
import { actionDigest, type ApprovableAction } from '../domain/approval/action-digest';
import { approvalWorkflowId } from '../temporal/workflow-ids';
import { approveUpdate, consentUpdate, type ApprovalWorkflowInput } from '../workflows/approval/contract';
import type { dualChannelApprovalWorkflow } from '../workflows/approval/workflow';
import { startBenchRuntime, runBench } from './bench-runtime';
import type { Runtime } from '../workers/runtime';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const LATENCY_SAMPLES = Math.max(10, Math.round(40 * SCALE));
const OPEN_LEVELS = [0, Math.round(1_000 * SCALE), Math.round(10_000 * SCALE)];
/** The decision worker's cache size (workers/decision-worker.ts). */
const MAX_CACHED_WORKFLOWS = 500;
const TENANTS = 50;

const DECIDE_SAMPLES = Math.max(20, Math.round(200 * SCALE));
/** The test LLM gateway answers this late: far past the IDE budget, so a decide that waited for it would show. */
const LLM_DELAY_MS = 1_000;

const log = (m: string) => process.stderr.write(`[bench:approval] ${m}\n`);
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, idx)] * 10) / 10;
}

async function startService(answer: () => unknown, delayMs = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer()));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function approvalInput(i: number, timeoutMinutes: number): ApprovalWorkflowInput {
  const tenant = `bench-appr-${i % TENANTS}`;
  const actionId = `act_${crypto.randomUUID()}`;
  const action: ApprovableAction = {
    action_id: actionId,
    type: 'multiplier',
    playbook_id: 'pb-bench',
    playbook_version: 1,
    title: 'Re-run the flaky suite',
    body: 'Re-run the tests of payments on main.',
    target: 'edge_agent',
    parameters: { actor_id: 'alice', surface: 'ide', repo_id: 'payments', branch: 'main', signal_id: null, signal_kind: null },
  };
  const now = Date.now();
  return {
    tenant_id: tenant,
    decision_id: `dec_${crypto.randomUUID()}`,
    task: {
      action_id: actionId,
      actor_id: 'alice',
      requires_dual_channel: true,
      action,
      action_digest: actionDigest(action),
      opened_at: new Date(now).toISOString(),
      expires_at: new Date(now + timeoutMinutes * 60_000).toISOString(),
    },
  };
}

async function startApprovals(client: Client, taskQueue: string, count: number, timeoutMinutes: number, concurrency = 32) {
  let next = 0;
  const handles: Array<Awaited<ReturnType<Client['workflow']['start']>>> = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const input = approvalInput(next++, timeoutMinutes);
        handles.push(
          await client.workflow.start<typeof dualChannelApprovalWorkflow>('dualChannelApprovalWorkflow', {
            taskQueue,
            workflowId: approvalWorkflowId(input.tenant_id, input.task.action_id),
            args: [input],
          }),
        );
      }
    }),
  );
  return handles;
}

async function countOpened(rt: Runtime): Promise<number> {
  const [row] = await rt.repos.sequelize.query<{ n: string }>(`SELECT count(*) AS n FROM action_approval_transitions WHERE event = 'opened'`, { type: 'SELECT' as never });
  return Number(row.n);
}

async function benchDecide(rt: Runtime) {
  const tenant = 'bench-decide';
  const { tenant_id: _t, version: _v, policy_snapshot_id: _p, updated_at: _u, ...policy } = await rt.repos.policies.get(tenant);
  await rt.repos.policies.put(tenant, { ...policy, llm_enabled: true, max_nudges_per_window: 1000, cooldown_minutes: 0 }, 'bench');
  const created = await rt.repos.playbooks.create(
    tenant,
    {
      name: 'Build failures: mentor and re-run',
      category: 'build_health',
      triggers: [{ source: 'ubi', kind: 'build_failures', min_severity: 'low' }],
      conditions: [],
      actions: [
        { type: 'mentor', title: 'Builds on {{branch}} keep failing', body: 'Running the failing step locally can save a round trip.', priority: 60, cooldown_minutes: 0, requires_consent: false, requires_dual_channel: false },
        { type: 'multiplier', title: 'Re-run the build', body: 'Re-run the build of {{repo_id}}.', priority: 50, cooldown_minutes: 0, requires_consent: true, requires_dual_channel: true },
      ],
    },
    'bench',
  );
  await rt.repos.playbooks.publish(tenant, created.playbook_id, 'bench');
  const token = signDevToken(rt.jwtSecret, { sub: 'bench', tenant_id: tenant, roles: ['service'] }, 3600);
  log(`decide with a mentor and a multiplier action, IDE, concurrency 1 (${DECIDE_SAMPLES} requests)`);
  const latencies: number[] = [];
  const recorded: number[] = [];
  for (let i = 0; i < DECIDE_SAMPLES + 20; i++) {
    const body = {
      tenant_id: tenant, actor_id: `actor-${i}`, actor_type: 'human', surface: 'ide', repo_id: 'payments', branch: 'main',
      signal: { signal_id: `s-${i}`, source: 'ubi', kind: 'build_failures', severity: 'medium', occurred_at: new Date().toISOString(), payload: { failures: 4 } },
    };
    const t = performance.now();
    const res = await fetch(`${rt.apiUrl}/v1/mmm/decide`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    const json = (await res.json()) as { actions?: Array<{ type: string; payload: { enrichment?: { status: string } } }>; latency_ms: number };
    const ms = performance.now() - t;
    if (res.status !== 200 || json.actions?.length !== 2) throw new Error(`decide answered ${res.status}: ${JSON.stringify(json)}`);
    if (json.actions.find((a) => a.type === 'mentor')?.payload.enrichment?.status !== 'pending') throw new Error('the mentor action was not pending enrichment');
    if (i >= 20) {
      latencies.push(ms);
      recorded.push(json.latency_ms);
    }
  }
  const s = [...latencies].sort((a, b) => a - b);
  const r = [...recorded].sort((a, b) => a - b);
  return { requests: s.length, p50_ms: percentile(s, 50), p95_ms: percentile(s, 95), recorded_latency_p95_ms: percentile(r, 95), llm_gateway_delay_ms: LLM_DELAY_MS };
}

async function main() {
  const edge = await startService(() => ({ execution_id: `exec-${crypto.randomUUID()}`, status: 'accepted' }));
  const llm = await startService(
    () => ({ text: JSON.stringify({ title: 'Builds', claims: [{ text: 'Four builds failed.', evidence: ['E1'] }] }), safety: { status: 'pass', risk_flags: [], redaction_summary: null } }),
    LLM_DELAY_MS,
  );
  log('starting embedded PostgreSQL, Redis, Temporal, worker and API ...');
  const bench = await startBenchRuntime('mmm-bench-approval-', { EDGE_AGENT_BASE_URL: edge.url, LLM_GATEWAY_BASE_URL: llm.url });
  const { rt, config } = bench;
  const client = rt.temporal.client;
  const taskQueue = config.TEMPORAL_TASK_QUEUE;
  try {
    // 0. Decide (IDE, concurrency 1) for a playbook with a mentor and a multiplier action: the answer must not wait
    //    for the LLM (1 s late here) nor for the approval workflow.
    const decideFigures = await benchDecide(rt);

    // 1. Second approval -> executed.
    log(`second approval to executed over ${LATENCY_SAMPLES} dual-channel actions`);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES + 5; i++) {
      const [handle] = await startApprovals(client, taskQueue, 1, 60, 1);
      await handle.executeUpdate(consentUpdate, { args: [{ actor_id: 'alice', decision: 'consent', action_digest: null }] });
      await handle.executeUpdate(approveUpdate, { args: [{ approver_id: 'bob', roles: ['approver'], channel: 'slack', decision: 'approve', comment: null, action_digest: null }] });
      const t = performance.now();
      await handle.executeUpdate(approveUpdate, { args: [{ approver_id: 'carol', roles: ['approver'], channel: 'email', decision: 'approve', comment: null, action_digest: null }] });
      const result = (await handle.result()) as { status: string };
      if (result.status !== 'executed') throw new Error(`approval ended ${result.status}`);
      if (i >= 5) latencies.push(performance.now() - t); // the first five warm the worker
    }
    const sorted = [...latencies].sort((a, b) => a - b);

    // 2. Memory with open approvals.
    const memory: Array<Record<string, number>> = [];
    let open = 0;
    const opened0 = await countOpened(rt);
    for (const level of OPEN_LEVELS) {
      if (level > open) {
        log(`opening ${level - open} more approval workflows (to ${level})`);
        const started = performance.now();
        await startApprovals(client, taskQueue, level - open, 120);
        open = level;
        // Every workflow has run its first task and written its "opened" receipt: it now waits on its timer.
        while ((await countOpened(rt)) - opened0 < open) await new Promise((r) => setTimeout(r, 500));
        log(`${level} open after ${Math.round(performance.now() - started)} ms`);
      }
      await new Promise((r) => setTimeout(r, 2_000));
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      memory.push({ open_approval_workflows: open, rss_mb: mb(m.rss), heap_used_mb: mb(m.heapUsed), heap_total_mb: mb(m.heapTotal), external_mb: mb(m.external) });
    }

    const out = {
      bench: 'approval',
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      setup: 'dualChannelApprovalWorkflow on the embedded stack; updates through the Temporal client; delegation to a local HTTP edge agent',
      decide_mentor_multiplier_ide_c1: decideFigures,
      second_approval_to_executed: { samples: sorted.length, p50_ms: percentile(sorted, 50), p95_ms: percentile(sorted, 95), max_ms: percentile(sorted, 100) },
      worker_memory: { max_cached_workflows: MAX_CACHED_WORKFLOWS, process: 'API and worker in one process', levels: memory },
    };
    return out;
  } finally {
    await bench.stop();
    await edge.close();
    await llm.close();
  }
}

runBench(main);
