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
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
