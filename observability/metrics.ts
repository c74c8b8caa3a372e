import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** NFR-1: the required latency buckets, in seconds. */
export const DECISION_LATENCY_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2];

/**
 * Every service metric is declared here, once, with its labels. Tenant ids are labels (tenants are few);
 * actor ids never are (no per-actor metrics, and bounded cardinality).
 */
export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    decisionLatency: new Histogram({
      name: 'mmm_decision_latency_seconds',
      help: 'Time from receiving a decide request to the recorded decision',
      labelNames: ['surface', 'outcome'] as const,
      buckets: DECISION_LATENCY_BUCKETS,
      registers: [registry],
    }),
    decisionLatencyWarnings: new Counter({
      name: 'mmm_decision_latency_warning_total',
      help: "Decisions slower than their surface's budget (IDE 150 ms, CI 500 ms)",
      labelNames: ['surface'] as const,
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'mmm_decisions_total',
      help: 'Decisions made, by outcome',
      labelNames: ['tenant_id', 'surface', 'outcome'] as const,
      registers: [registry],
    }),
    actions: new Counter({
      name: 'mmm_actions_total',
      help: 'Actions shown, by type',
      labelNames: ['tenant_id', 'type'] as const,
      registers: [registry],
    }),
    suppressed: new Counter({
      name: 'mmm_suppressed_total',
      help: 'Matched actions not shown, by reason',
      labelNames: ['tenant_id', 'reason'] as const,
      registers: [registry],
    }),
    degraded: new Counter({
      name: 'mmm_degraded_decisions_total',
      help: 'Decisions made in degraded mode, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    receipts: new Counter({
      name: 'mmm_receipts_total',
      help: 'Receipts written to the ledger',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'mmm_http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: 'mmm_dependency_up',
      help: 'Whether a dependency answered its last readiness check (1) or not (0)',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    busPublished: new Counter({
      name: 'mmm_bus_messages_published_total',
      help: 'Messages published on the signal bus, by topic',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    busConsumed: new Counter({
      name: 'mmm_bus_messages_consumed_total',
      help: 'Bus messages handled and acknowledged, by topic',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    busFailed: new Counter({
      name: 'mmm_bus_messages_failed_total',
      help: 'Bus message deliveries whose handler failed (re-delivered, or dead-lettered after N tries)',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    busDeadLettered: new Counter({
      name: 'mmm_bus_messages_dead_lettered_total',
      help: 'Bus messages moved to the dead letter: poison (invalid) or max_deliveries',
      labelNames: ['topic', 'reason'] as const,
      registers: [registry],
    }),
    busLag: new Gauge({
      name: 'mmm_bus_consumer_lag_messages',
      help: 'Messages on a topic not yet acknowledged by the consumer group',
      labelNames: ['topic', 'group'] as const,
      registers: [registry],
    }),
    signalDecisions: new Counter({
      name: 'mmm_signal_consumer_decisions_total',
      help: 'What the engine did with a consumed signal: decided (per surface), replayed (a re-delivery), no_playbook',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** The bus's narrow metrics interface (activities/bus/signal-bus.ts BusMetrics) over the counters above. */
export function busMetricsOf(m: Metrics) {
  return {
    published: (topic: string) => m.busPublished.inc({ topic }),
    consumed: (topic: string) => m.busConsumed.inc({ topic }),
    failed: (topic: string) => m.busFailed.inc({ topic }),
    deadLettered: (topic: string, reason: string) => m.busDeadLettered.inc({ topic, reason }),
    lag: (topic: string, group: string, messages: number) => m.busLag.set({ topic, group }, messages),
  };
}
