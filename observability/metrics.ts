import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** NFR-1: the required latency buckets, in seconds. */
export const DECISION_LATENCY_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2];

/**
 * Every service metric is declared here, once, with its labels. Tenant ids are labels (tenants are few);
 * actor ids never are (no per-actor metrics, and bounded cardinality).
 */
export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  // Read at scrape time where ERIS emission runs (the worker tier): a count over the outbox's partial index, so a
  // scrape costs one small query and the gauge is never staler than the scrape.
  let readReceiptBacklog: (() => Promise<number>) | undefined;
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
    dependencyCalls: new Counter({
      name: 'mmm_dependency_calls_total',
      help: 'Calls to services we do not own, by outcome (success, timeout, circuit_open, network, http, rejected, invalid_response)',
      labelNames: ['dependency', 'outcome'] as const,
      registers: [registry],
    }),
    dependencyCallDuration: new Histogram({
      name: 'mmm_dependency_call_duration_seconds',
      help: 'Duration of calls to services we do not own',
      labelNames: ['dependency'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
      registers: [registry],
    }),
    circuitBreakerState: new Gauge({
      name: 'mmm_circuit_breaker_state',
      help: 'Circuit breaker state per dependency: 0 closed, 1 half-open (probing or on probation), 2 open',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    receiptEmissions: new Counter({
      name: 'mmm_receipt_emissions_total',
      help: 'Receipt deliveries to ERIS, by outcome (delivered, retry_scheduled)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    receiptEmissionBacklog: new Gauge({
      name: 'mmm_receipt_emission_backlog',
      help: 'Ledger receipts not yet delivered to ERIS (the emission outbox); only where ERIS emission runs',
      registers: [registry],
      async collect() {
        if (!readReceiptBacklog) return;
        // A scrape must not fail with the database: the gauge then keeps its last value.
        const pending = await readReceiptBacklog().catch(() => undefined);
        if (pending !== undefined) this.set(pending);
      },
    }),
    /** Where ERIS emission runs, the backlog gauge reads the outbox with this at every scrape. */
    readReceiptBacklogWith(read: () => Promise<number>) {
      readReceiptBacklog = read;
    },
    mentorEnrichments: new Counter({
      name: 'mmm_mentor_enrichments_total',
      help: 'Mentor enrichments by outcome: enriched, or the reason the template stands (llm_gateway_timeout, llm_output_blocked, …)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    approvalTransitions: new Counter({
      name: 'mmm_approval_transitions_total',
      help: 'Approval transitions of multiplier actions, by event (opened, consented, vote, expired, executing, executed, failed, …)',
      labelNames: ['event', 'status'] as const,
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: 'mmm_dependency_up',
      help: 'Whether a dependency answered its last readiness check (1) or not (0)',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    ubi: createUbiMetrics(registry),

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
    busLost: new Counter({
      name: 'mmm_bus_messages_lost_total',
      help: 'Bus messages gone unhandled where the bus could not keep them (e.g. a Redis stream past its hard cap)',
      labelNames: ['bus', 'reason'] as const,
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
    alertDeliveries: new Counter({
      name: 'mmm_alert_deliveries_total',
      help: 'Alerts of alert-surface decisions, by outcome: delivered, refused (a 4xx), outbox (no alerting service), retry (an attempt failed), gave_up',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** UBI bucket boundaries, in seconds: feature work is milliseconds, recomputes are seconds to minutes. */
const UBI_FAST_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const UBI_SLOW_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800];

/** The 8 UBI metrics the requirements name (plus freshness), declared once on the same registry. */
export function createUbiMetrics(registry: Registry) {
  return {
    eventsProcessed: new Counter({
      name: 'ubi_events_processed_total', help: 'Events received, by type and outcome (accepted, duplicate, rejected)',
      labelNames: ['tenant_id', 'event_type', 'status'] as const, registers: [registry],
    }),
    signalsGenerated: new Counter({
      name: 'ubi_signals_generated_total', help: 'Behavioural signals stored',
      labelNames: ['tenant_id', 'dimension', 'signal_type'] as const, registers: [registry],
    }),
    anomalies: new Counter({
      name: 'ubi_anomalies_total', help: 'Anomalies detected, by severity',
      labelNames: ['tenant_id', 'dimension', 'severity'] as const, registers: [registry],
    }),
    receiptEmissions: new Counter({
      name: 'ubi_receipt_emission_total', help: 'UBI receipts (erasure) written, by outcome',
      labelNames: ['tenant_id', 'status'] as const, registers: [registry],
    }),
    featureComputation: new Histogram({
      name: 'ubi_feature_computation_duration_seconds', help: 'Time to compute features of one micro-batch',
      labelNames: ['tenant_id', 'feature_name'] as const, buckets: UBI_FAST_BUCKETS, registers: [registry],
    }),
    baselineRecompute: new Histogram({
      name: 'ubi_baseline_recompute_duration_seconds', help: 'Time to recompute one batch of baselines',
      labelNames: ['tenant_id', 'actor_scope'] as const, buckets: UBI_SLOW_BUCKETS, registers: [registry],
    }),
    apiRequest: new Histogram({
      name: 'ubi_api_request_duration_seconds', help: 'UBI API request duration',
      labelNames: ['tenant_id', 'endpoint', 'method'] as const, buckets: UBI_FAST_BUCKETS, registers: [registry],
    }),
    queueSize: new Gauge({
      name: 'ubi_queue_size', help: '(actor, day) pairs waiting for feature computation',
      labelNames: ['tenant_id'] as const, registers: [registry],
    }),
    freshness: new Histogram({
      name: 'ubi_feature_freshness_seconds', help: 'Age of the oldest change in a micro-batch when its features were committed (event-to-feature lag)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120], registers: [registry],
    }),
    publishFailures: new Counter({
      name: 'ubi_signal_publish_failures_total', help: 'Signal publishes that failed (retried from the store)',
      registers: [registry],
    }),
  };
}
export type UbiMetrics = ReturnType<typeof createUbiMetrics>;

/** The bus's narrow metrics interface (activities/bus/signal-bus.ts BusMetrics) over the counters above. */
export function busMetricsOf(m: Metrics) {
  return {
    published: (topic: string) => m.busPublished.inc({ topic }),
    consumed: (topic: string) => m.busConsumed.inc({ topic }),
    failed: (topic: string) => m.busFailed.inc({ topic }),
    deadLettered: (topic: string, reason: string) => m.busDeadLettered.inc({ topic, reason }),
    lag: (topic: string, group: string, messages: number) => m.busLag.set({ topic, group }, messages),
    lost: (bus: string, reason: string, messages: number) => m.busLost.inc({ bus, reason }, messages),
  };
}
