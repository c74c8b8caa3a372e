/**
 * `npx tsx bench/bus.ts`: the signal bus on its own (Redis Streams and RabbitMQ: publish rate, consume rate and
 * publish-to-handler latency with a no-op handler), then signals through the whole engine (bus → consumer → decide →
 * stored decision) on the embedded runtime. Figures go to stdout as JSON; progress to stderr. BENCH_SCALE shrinks it.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import amqp from 'amqplib';
import Redis from 'ioredis';
import { createRabbitSignalBus } from '../activities/bus/rabbitmq-signal-bus';
import { createRedisSignalBus } from '../activities/bus/redis-signal-bus';
import type { SignalBus } from '../activities/bus/signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC, type BehaviouralSignal } from '../domain/model/behavioural-signal';
import { playbookInputSchema } from '../domain/model/playbook';
import { startRabbitMqServer } from '../workers/embedded-rabbitmq';
import { startRedisServer } from '../workers/embedded-redis';
import { startBenchRuntime, runBench } from './bench-runtime';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const BUS_MESSAGES = Math.round(5000 * SCALE);
const ENGINE_SIGNALS = Math.round(300 * SCALE);
const SINGLE_SIGNALS = Math.round(30 * SCALE);
const BATCH = 100;
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] * 10) / 10;
}

function signal(tenant: string, kind = 'review_turnaround_spike'): BehaviouralSignal {
  const now = new Date().toISOString();
  return {
    signal_id: `sig-${crypto.randomUUID()}`, tenant_id: tenant, actor_id: `actor-${crypto.randomUUID().slice(0, 6)}`, actor_type: 'human', team_id: null,
    dimension: 'review_turnaround', signal_type: kind, severity: 'medium', value: 40, baseline: { mean: 12, spread: 3, samples: 28, source: 'personal' },
    score: 75, explanation: { direction: 'above', sent_at_ms: Date.now() }, window_start: now, window_end: now, created_at: now, config_version: 1,
  };
}

async function waitUntil(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function benchBus(name: string, bus: SignalBus) {
  const latencies: number[] = [];
  const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, {
    group: 'bench',
    consumer: 'bench-1',
    handler: async (m) => void latencies.push(Date.now() - Number((m.payload as BehaviouralSignal).explanation.sent_at_ms)),
  });
  const started = performance.now();
  for (let i = 0; i < BUS_MESSAGES; i += BATCH) await bus.publish(Array.from({ length: Math.min(BATCH, BUS_MESSAGES - i) }, () => signal('bench')));
  const published = performance.now();
  await waitUntil(`${name} consumption`, () => latencies.length >= BUS_MESSAGES, 300_000);
  const consumed = performance.now();
  await sub.stop();
  await bus.close();
  const s = latencies.sort((a, b) => a - b);
  return {
    messages: BUS_MESSAGES,
    publish_per_s: Math.round(BUS_MESSAGES / ((published - started) / 1000)),
    end_to_end_per_s: Math.round(BUS_MESSAGES / ((consumed - started) / 1000)),
    publish_to_handler_p50_ms: percentile(s, 50),
    publish_to_handler_p95_ms: percentile(s, 95),
  };
}

async function main() {
  const out: Record<string, unknown> = { machine: { cpus: os.cpus().length }, scale: SCALE, bus_only_consumer_concurrency: 8 };
  const options = { topicPrefix: 'bench.', maxDeliveries: 5, concurrency: 8 };

  log('Redis Streams ...');
  const redis = await startRedisServer({});
  try {
    const connect = () => new Redis(redis.url, { maxRetriesPerRequest: 1 });
    out.redis_streams = await benchBus('redis', createRedisSignalBus({ connect }, { ...options, maxLen: 100_000, claimIdleMs: 30_000, blockMs: 1000 }));
  } finally {
    await redis.stop();
  }

  log('RabbitMQ ...');
  const rabbit = await startRabbitMqServer();
  try {
    out.rabbitmq = await benchBus('rabbitmq', createRabbitSignalBus({ connect: () => amqp.connect(rabbit.url) }, options));
  } finally {
    await rabbit.stop();
  }

  log('the engine (signals published as one burst, so latencies include the queue): bus → consumer → decide → stored decision (embedded runtime, Redis Streams) ...');
  const bench = await startBenchRuntime('mmm-bench-bus-', { BUS_TYPE: 'redis' });
  const { rt } = bench;
  try {
    const tenant = 'bench-bus';
    const { tenant_id: _t, version: _v, policy_snapshot_id: _p, updated_at: _u, ...policy } = await rt.repos.policies.get(tenant);
    await rt.repos.policies.put(tenant, { ...policy, max_nudges_per_window: 1000, cooldown_minutes: 0 }, 'bench');
    const pb = await rt.repos.playbooks.create(
      tenant,
      playbookInputSchema.parse({
        name: 'Review turnaround mirror',
        category: 'review_health',
        triggers: [{ source: 'ubi', kind: 'review_turnaround_spike', surfaces: ['ide'] }],
        actions: [{ type: 'mirror', title: 'Review turnaround', body: 'Reviews took {{signal.payload.value}} h.', cooldown_minutes: 0 }],
      }),
      'bench',
    );
    await rt.repos.playbooks.publish(tenant, pb.playbook_id, 'bench');
    const count = async () => Number(((await rt.repos.sequelize.query('SELECT count(*)::int AS n FROM decisions WHERE tenant_id = :tenant', { replacements: { tenant }, plain: true })) as { n: number }).n);
    // Warm-up: the first decisions pay for connection pools and workflow caches.
    await rt.bus.publish(Array.from({ length: 20 }, () => signal(tenant)));
    await waitUntil('warm-up decisions', async () => (await count()) >= 20, 120_000);
    // One signal at a time: the latency of the path itself, without a queue in front of it.
    const single: number[] = [];
    for (let i = 0; i < SINGLE_SIGNALS; i++) {
      const before = await count();
      const t0 = performance.now();
      await rt.bus.publish([signal(tenant)]);
      await waitUntil('a single decision', async () => (await count()) > before, 30_000);
      single.push(performance.now() - t0);
    }
    single.sort((a, b) => a - b);
    out.engine_single_signal = { signals: SINGLE_SIGNALS, publish_to_stored_decision_p50_ms: percentile(single, 50), p95_ms: percentile(single, 95) };
    const base = await count();

    const signals = Array.from({ length: ENGINE_SIGNALS }, () => signal(tenant));
    const started = performance.now();
    for (let i = 0; i < signals.length; i += BATCH) await rt.bus.publish(signals.slice(i, i + BATCH));
    await waitUntil('engine decisions', async () => (await count()) >= base + ENGINE_SIGNALS, 600_000);
    const wall = performance.now() - started;
    const [rows] = await rt.repos.sequelize.query(
      `SELECT (extract(epoch from created_at) * 1000)::float8 AS at, actor_id AS actor FROM decisions WHERE tenant_id = :tenant`,
      { replacements: { tenant } },
    );
    const sentAt = new Map(signals.map((s) => [s.actor_id, Number(s.explanation.sent_at_ms)]));
    const lat = (rows as Array<{ at: number; actor: string }>)
      .filter((r) => sentAt.has(r.actor))
      .map((r) => r.at - (sentAt.get(r.actor) as number))
      .sort((a, b) => a - b);
    out.engine_signal_to_decision = {
      signals: ENGINE_SIGNALS,
      decisions_per_s: Math.round((ENGINE_SIGNALS / (wall / 1000)) * 10) / 10,
      signal_to_decision_p50_ms: percentile(lat, 50),
      signal_to_decision_p95_ms: percentile(lat, 95),
      matched_latencies: lat.length,
    };
  } finally {
    await bench.stop();
  }
  return out;
}

runBench(main);
