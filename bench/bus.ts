/**
 * `npx tsx bench/bus.ts`: Redis Streams, RabbitMQ and Kafka side by side from one run:
 *  - the bus on its own (publish rate, end-to-end rate and publish-to-handler latency with a no-op handler);
 *  - signals through the whole engine on each bus (bus → consumer → decide → stored decision, embedded runtime);
 *  - UBI events from Kafka into PostgreSQL (events/s sustained, event-to-feature freshness), beside the same rows
 *    over HTTP (POST /v1/ubi/events) and a raw COPY of them.
 * Figures go to stdout as JSON (with the load average, since other work may share the machine); progress to stderr.
 * BENCH_SCALE shrinks or grows it.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { spawn } from 'node:child_process';
import amqp from 'amqplib';
import Redis from 'ioredis';
import fs from 'node:fs';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { signDevToken } from '../api/auth';
import { createKafkaSignalBus } from '../activities/bus/kafka-signal-bus';
import { createRabbitSignalBus } from '../activities/bus/rabbitmq-signal-bus';
import { UBI_EVENTS_TOPIC } from '../domain/model/ubi-event';
import { startKafkaServer } from '../workers/embedded-kafka';
import { createRedisSignalBus } from '../activities/bus/redis-signal-bus';
import type { SignalBus } from '../activities/bus/signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC, type BehaviouralSignal } from '../domain/model/behavioural-signal';
import { playbookInputSchema } from '../domain/model/playbook';
import { startRabbitMqServer } from '../workers/embedded-rabbitmq';
import { startRedisServer } from '../workers/embedded-redis';
import { startBenchRuntime, runBench } from './bench-runtime';
import { cpuDelta, cpuSnapshot } from './proc-cpu';
import { ubiEvents } from './ubi-events';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const BUS_MESSAGES = Math.round(5000 * SCALE);
const ENGINE_SIGNALS = Math.round(300 * SCALE);
const SINGLE_SIGNALS = Math.round(30 * SCALE);
const BATCH = 100;
const UBI_EVENTS = Math.round(200_000 * SCALE);
const UBI_HTTP_EVENTS = Math.round(100_000 * SCALE);
/** The paced Kafka phase: events/s (BENCH_UBI_PACED_RATE) for about 20 s at BENCH_SCALE=1. */
const UBI_PACED_RATE = Number(process.env.BENCH_UBI_PACED_RATE ?? '4000') || 4000;
const UBI_PACED_EVENTS = Math.round(UBI_PACED_RATE * 20 * SCALE);
const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);
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
  // Eight tenants: Kafka keeps one tenant's signals in order (one at a time), so one tenant alone would measure that.
  for (let i = 0; i < BUS_MESSAGES; i += BATCH) await bus.publish(Array.from({ length: Math.min(BATCH, BUS_MESSAGES - i) }, (_, j) => signal(`bench-${(i + j) % 8}`)));
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

/** Signals through the whole engine on one bus: one at a time (the path's own latency), then a burst (with queueing). */
async function benchEngine(name: string, env: Record<string, string>) {
  log(`${name}: the engine (bus → consumer → decide → stored decision, embedded runtime) ...`);
  const bench = await startBenchRuntime(`mmm-bench-bus-${name}-`, { ...env, UBI_BUS_INGESTION_ENABLED: 'false' });
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
    const single: number[] = [];
    for (let i = 0; i < SINGLE_SIGNALS; i++) {
      const before = await count();
      const t0 = performance.now();
      await rt.bus.publish([signal(tenant)]);
      await waitUntil('a single decision', async () => (await count()) > before, 30_000);
      single.push(performance.now() - t0);
    }
    single.sort((a, b) => a - b);
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
    return {
      single_signal: { signals: SINGLE_SIGNALS, publish_to_stored_decision_p50_ms: percentile(single, 50), p95_ms: percentile(single, 95) },
      burst: {
        signals: ENGINE_SIGNALS,
        decisions_per_s: Math.round((ENGINE_SIGNALS / (wall / 1000)) * 10) / 10,
        signal_to_decision_p50_ms: percentile(lat, 50),
        signal_to_decision_p95_ms: percentile(lat, 95),
        matched_latencies: lat.length,
      },
      load_average: loadAverage(),
    };
  } finally {
    await bench.stop();
  }
}

/**
 * Kafka → PostgreSQL UBI ingestion against the same rows over HTTP and as a raw COPY. Kafka: every event published
 * by a producer process (1,000 per produce request) while the runtime's consumer stores them in batches
 * (UBI_BUS_BATCH_SIZE); sustained rate = events / (first publish → last event stored). Then a paced phase below that
 * rate. Freshness: probe events for new actors every 250 ms during each phase, timed from publish until the actor's
 * features are stored.
 */
async function benchUbiIngestion() {
  log('UBI ingestion: Kafka → PostgreSQL, HTTP and raw COPY (embedded runtime with BUS_TYPE=kafka) ...');
  const bench = await startBenchRuntime('mmm-bench-ubi-kafka-', { BUS_TYPE: 'kafka', UBI_SCHEDULES_ENABLED: 'false', SIGNAL_CONSUMER_ENABLED: 'false' });
  const { rt, config } = bench;
  const db = rt.repos.sequelize;
  const brokers = JSON.parse(fs.readFileSync(path.join(config.dataDir, 'kafka', 'ports.json'), 'utf8')) as { port: number };
  const producer = createKafkaSignalBus({
    brokers: [`127.0.0.1:${brokers.port}`], clientId: 'bench-producer', topicPrefix: config.BUS_TOPIC_PREFIX, maxDeliveries: 5, concurrency: 8,
    partitions: config.KAFKA_TOPIC_PARTITIONS, replicationFactor: 1, sessionTimeoutMs: 10_000,
  });
  const stored = async (tenant: string) => Number(((await db.query('SELECT count(*)::int AS n FROM ubi_events WHERE tenant_id = :tenant', { replacements: { tenant }, plain: true })) as { n: number }).n);
  try {
    // Warm-up: topic, consumer group and pools.
    await producer.publishRaw(UBI_EVENTS_TOPIC, 'bench-warm', ubiEvents('bench-warm', 1, 'w')[0]);
    await waitUntil('the warm-up event', async () => (await stored('bench-warm')) === 1, 60_000);

    /**
     * One Kafka phase: the upstream producer in its own process (as a real one is; its CPU is the load generator's
     * share), as fast as the broker takes it or at `rate` events/s, while probe events for new actors measure
     * freshness. Sustained rate: the producer's first send to the last event stored.
     */
    async function kafkaPhase(tenant: string, n: number, rate?: number) {
      const run = crypto.randomUUID().slice(0, 8);
      const probes: number[] = [];
      let probing = true;
      let probesSent = 0;
      const probeLoop = (async () => {
        for (let i = 0; probing; i++) {
          const actor = `probe-${run}-${i}`;
          probesSent++;
          const t0 = performance.now();
          await producer.publishRaw(UBI_EVENTS_TOPIC, tenant, { ...ubiEvents(tenant, 1, `probe-${run}-${i}`)[0], actor_id: actor, occurred_at: new Date().toISOString() });
          for (;;) {
            const rows = await db.query('SELECT 1 FROM ubi_features WHERE tenant_id = :tenant AND actor_id = :actor LIMIT 1', { replacements: { tenant, actor }, type: QueryTypes.SELECT });
            if (rows.length) break;
            if (performance.now() - t0 > 120_000) break; // counted as 120 s: the figure says how far off it is
            await new Promise((r) => setTimeout(r, 20));
          }
          probes.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const producerPids = new Set<number>();
      const cpuBefore = cpuSnapshot(producerPids);
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'ubi-kafka-producer.ts')], {
        env: { ...process.env, PRODUCE: JSON.stringify({ brokers: [`127.0.0.1:${brokers.port}`], topicPrefix: config.BUS_TOPIC_PREFIX, partitions: config.KAFKA_TOPIC_PARTITIONS, tenant, n, run, rate }) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (child.pid) producerPids.add(child.pid);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      // The producer's CPU is read until it exits (an exited process leaves the tree).
      let lastCpu = cpuBefore;
      const sampler = setInterval(() => (lastCpu = cpuSnapshot(producerPids)), 100);
      const exited = new Promise<number>((resolve) => child.on('exit', (code) => (clearInterval(sampler), resolve(code ?? 1))));
      await waitUntil('every Kafka event stored', async () => (await stored(tenant)) - probesSent >= n, 600_000);
      const storedAt = performance.now();
      const storedWall = Date.now();
      if ((await exited) !== 0) throw new Error('the UBI producer failed');
      const cpu = cpuDelta(cpuBefore, cpuSnapshot(producerPids));
      cpu.load_generator = lastCpu.load_generator - (cpuBefore.load_generator ?? 0);
      const times = JSON.parse(out.trim().split('\n').pop() as string) as { started_at: number; published_at: number };
      const started = storedAt - (storedWall - times.started_at);
      const published = storedAt - (storedWall - times.published_at);
      probing = false;
      await probeLoop;
      // Features of every stored event: how long after the last event was stored the micro-batcher had caught up.
      await rt.ubi.batcher?.drain();
      const featuresAt = performance.now();
      const fresh = probes.sort((x, y) => x - y);
      return {
        events: n,
        ...(rate ? { paced_at_per_s: rate } : {}),
        publish_per_s: Math.round(n / ((published - started) / 1000)),
        events_per_s_sustained: Math.round(n / ((storedAt - started) / 1000)),
        seconds: Math.round((storedAt - started) / 100) / 10,
        batch_size: config.UBI_BUS_BATCH_SIZE,
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        freshness_probes: fresh.length,
        freshness_p50_ms: percentile(fresh, 50),
        freshness_p95_ms: percentile(fresh, 95),
        features_caught_up_s_after_last_stored: Math.round((featuresAt - storedAt) / 100) / 10,
        // CPU from the producer's first send to the last event stored, per event, by process (the engine's process
        // holds the consumer, ingestion and the feature micro-batcher; kafka is the broker's JVM).
        cpu_ms_per_event: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round((v / n) * 1000) / 1000])),
        cpu_cores_busy: Math.round((Object.values(cpu).reduce((x, y) => x + y, 0) / (storedAt - started)) * 100) / 100,
      };
    }
    // As fast as it goes: the sustained rate. Then paced below it: freshness when ingestion keeps up.
    const kafka = await kafkaPhase('bench-ubi-kafka', UBI_EVENTS);
    const paced = await kafkaPhase('bench-ubi-kafka-paced', UBI_PACED_EVENTS, UBI_PACED_RATE);

    // The same rows over HTTP: batches of 500, four at a time.
    const httpTenant = 'bench-ubi-http';
    const token = signDevToken(rt.jwtSecret, { sub: 'bench', tenant_id: httpTenant, roles: ['service'] }, 3600);
    const httpEvents = ubiEvents(httpTenant, UBI_HTTP_EVENTS, crypto.randomUUID().slice(0, 8));
    const httpStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < httpEvents.length) {
          const batch = httpEvents.slice(next, (next += 500));
          const res = await fetch(`${rt.apiUrl}/v1/ubi/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ events: batch }) });
          if (res.status !== 202) throw new Error(`HTTP ingestion answered ${res.status}`);
          await res.arrayBuffer();
        }
      }),
    );
    const httpMs = performance.now() - httpStarted;

    // A raw COPY of the same rows (no validation, no privacy filter, no feature work): what PostgreSQL alone takes.
    const copyTenant = 'bench-ubi-copy';
    const csvFile = path.join(config.dataDir, 'copy.csv');
    const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
    fs.writeFileSync(
      csvFile,
      ubiEvents(copyTenant, UBI_EVENTS, 'copy')
        .map((e) => [e.tenant_id, e.event_id, e.actor_id, e.actor_type, e.event_type, e.occurred_at, e.source, e.team_id, e.repo_id, q(JSON.stringify(e.properties))].join(','))
        .join('\n') + '\n',
    );
    fs.chmodSync(csvFile, 0o644);
    const copyStarted = performance.now();
    await db.query(`COPY ubi_events (tenant_id, event_id, actor_id, actor_type, event_type, occurred_at, source, team_id, repo_id, properties) FROM '${csvFile}' WITH (FORMAT csv)`);
    const copyMs = performance.now() - copyStarted;

    return {
      target: '>= 20,000 events/s sustained from Kafka into PostgreSQL, event-to-feature freshness p95 < 5 s',
      kafka_to_postgres: kafka,
      kafka_to_postgres_paced: paced,
      http: { events: httpEvents.length, events_per_s: Math.round(httpEvents.length / (httpMs / 1000)), batch_size: 500, concurrency: 4 },
      raw_copy: { events: UBI_EVENTS, events_per_s: Math.round(UBI_EVENTS / (copyMs / 1000)) },
      load_average: loadAverage(),
    };
  } finally {
    await producer.close();
    await bench.stop();
  }
}

async function main() {
  // BENCH_BUS_ONLY=ubi runs only the UBI ingestion part.
  if (process.env.BENCH_BUS_ONLY === 'ubi') return { machine: { cpus: os.cpus().length, load_average_at_start: loadAverage() }, scale: SCALE, ubi_ingestion: await benchUbiIngestion() };
  const out: Record<string, unknown> = { machine: { cpus: os.cpus().length, node: process.version, load_average_at_start: loadAverage() }, scale: SCALE, consumer_concurrency: 8 };
  const options = { topicPrefix: 'bench.', maxDeliveries: 5, concurrency: 8 };
  const buses: Record<string, unknown> = {};
  out.bus_alone = buses;

  log('Redis Streams ...');
  const redis = await startRedisServer({});
  try {
    const connect = () => new Redis(redis.url, { maxRetriesPerRequest: 1 });
    buses.redis_streams = await benchBus('redis', createRedisSignalBus({ connect }, { ...options, maxLen: 100_000, claimIdleMs: 30_000, blockMs: 1000 }));
  } finally {
    await redis.stop();
  }

  log('RabbitMQ ...');
  const rabbit = await startRabbitMqServer();
  try {
    buses.rabbitmq = await benchBus('rabbitmq', createRabbitSignalBus({ connect: () => amqp.connect(rabbit.url) }, options));
    const engine: Record<string, unknown> = {};
    out.engine_signal_to_decision = engine;
    engine.rabbitmq = await benchEngine('rabbitmq', { BUS_TYPE: 'rabbitmq', RABBITMQ_URL: rabbit.url });
  } finally {
    await rabbit.stop();
  }

  log('Kafka ...');
  const kafka = await startKafkaServer();
  try {
    buses.kafka = await benchBus('kafka', createKafkaSignalBus({ ...options, brokers: [kafka.brokers], clientId: 'bench', partitions: 6, replicationFactor: 1, sessionTimeoutMs: 10_000 }));
  } finally {
    await kafka.stop();
  }
  const engine = out.engine_signal_to_decision as Record<string, unknown>;
  engine.redis_streams = await benchEngine('redis', { BUS_TYPE: 'redis' });
  engine.kafka = await benchEngine('kafka', { BUS_TYPE: 'kafka' });
  out.ubi_ingestion = await benchUbiIngestion();
  out.machine = { ...(out.machine as object), load_average_at_end: loadAverage() };
  return out;
}

runBench(main);
