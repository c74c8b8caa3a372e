import crypto from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { AppError, ConflictError, DependencyUnavailableError } from '../domain/errors';
import { canonicalJson, sha256Hex } from '../lib/receipt-crypto';
import type { Decision, DecideRequest, StoredDecision } from '../domain/model/decision';
import type { DecisionNotifier } from '../lib/decision-notifier';
import type { Metrics } from '../observability/metrics';
import { activeTraceparent } from '../observability/trace-context';
import type { DecisionClient } from '../workflows/decision/client';
import type { DecideWorkflowInput } from '../workflows/decision/contract';

export interface DecideServiceDeps {
  /** Sends each decision as an Update into its shard workflow (workflows/decision/client.ts, ADR 0012). */
  decisions: DecisionClient;
  store: {
    findByIdempotencyKey(tenantId: string, key: string): Promise<StoredDecision | null>;
    getStored(tenantId: string, decisionId: string): Promise<StoredDecision>;
  };
  /** How long a caller waits for a decision before getting a 503 (the decision itself carries on). */
  resultTimeoutMs?: number;
  /** Present when a worker shares this process: committed decisions arrive without reading them back. */
  notifier?: DecisionNotifier;
  /** Every decision made here is counted, whether it came over HTTP or from a bus signal. */
  metrics?: Pick<Metrics, 'decisionLatency' | 'decisionLatencyWarnings' | 'decisions' | 'receipts' | 'actions' | 'suppressed' | 'degraded'>;
}

export interface DecideOutcome {
  decision: Decision;
  replayed: boolean;
}

/** Sends the decision to its shard workflow and waits for it: the API never decides anything itself. */
export function createDecideService(deps: DecideServiceDeps) {
  const resultTimeoutMs = deps.resultTimeoutMs ?? 10_000;

  /** Only the request a decision was stored for may see it under its Idempotency-Key; another body gets 409. */
  function assertSameBody(stored: StoredDecision, requestSha: string): void {
    if (stored.requestSha256 !== requestSha)
      throw new ConflictError('idempotency_key_reused', 'this Idempotency-Key was used with a different request body', {
        fields: [{ field: 'Idempotency-Key', message: 'already used for another request' }],
      });
  }

  async function replay(tenantId: string, key: string, requestSha: string): Promise<DecideOutcome | null> {
    const stored = await deps.store.findByIdempotencyKey(tenantId, key);
    if (!stored) return null;
    assertSameBody(stored, requestSha);
    return { decision: stored.decision, replayed: true };
  }

  function count(request: DecideRequest, decision: Decision): void {
    const m = deps.metrics;
    if (!m) return;
    m.decisionLatency.observe({ surface: request.surface, outcome: decision.outcome }, decision.latency_ms / 1000);
    if (decision.latency_warning) m.decisionLatencyWarnings.inc({ surface: request.surface });
    m.decisions.inc({ tenant_id: request.tenant_id, surface: request.surface, outcome: decision.outcome });
    m.receipts.inc({ kind: 'decision' });
    for (const a of decision.actions) m.actions.inc({ tenant_id: request.tenant_id, type: a.type });
    for (const s of decision.suppressed) m.suppressed.inc({ tenant_id: request.tenant_id, reason: s.reason });
    for (const r of decision.degraded_reasons) m.degraded.inc({ reason: r });
  }

  /**
   * The committed decision with the hash of the request it was stored for: from the in-process worker's commit when
   * it has this shard, else read back once the Update answers with its reference. Whichever comes first wins; the
   * other is dropped without a second read.
   */
  async function awaitDecision(input: DecideWorkflowInput): Promise<StoredDecision> {
    const tenantId = input.request.tenant_id;
    const { workflowId } = deps.decisions.shardOf(tenantId, input.request.actor_id);
    // Registered before the Update is sent, so a commit made during the call is not missed.
    const local = deps.notifier?.waitFor(input.decision_id, resultTimeoutMs);
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const sent = deps.decisions.decide(input).then((s) => (answered ? null : deps.store.getStored(tenantId, s.ref.decision_id)));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(decisionTimeout(resultTimeoutMs, workflowId, input.decision_id)), resultTimeoutMs);
    });
    try {
      const fromWorker = local ? local.promise.then((d) => d ?? sent) : sent;
      const committed = await Promise.race([fromWorker, sent, timeout]);
      if (!committed) throw decisionTimeout(resultTimeoutMs, workflowId, input.decision_id);
      return committed;
    } finally {
      answered = true;
      clearTimeout(timer);
      local?.cancel();
      // Raced above: a late failure of the Update after the commit won is not an unhandled rejection.
      sent.catch(() => undefined);
    }
  }

  return {
    async decide(request: DecideRequest, opts: { idempotencyKey: string | null; actorRoles: string[]; receivedAtMs: number; droppedFields?: string[] }): Promise<DecideOutcome> {
      const requestSha = sha256Hex(canonicalJson(request));
      if (opts.idempotencyKey) {
        const prior = await replay(request.tenant_id, opts.idempotencyKey, requestSha);
        if (prior) return prior;
      }
      const traceparent = activeTraceparent();
      const keyHash = opts.idempotencyKey ? sha256Hex(`${request.tenant_id}\u0000${opts.idempotencyKey}`) : null;
      const input: DecideWorkflowInput = {
        // From the Idempotency-Key when there is one: retries share the decision id, hence the Update id and the
        // nudge reservation, and commitDecision returns what an earlier attempt stored.
        decision_id: keyHash ? `dec_${keyHash.slice(0, 32)}` : `dec_${crypto.randomUUID()}`,
        request,
        actor_roles: opts.actorRoles,
        received_at_ms: opts.receivedAtMs,
        idempotency_key: opts.idempotencyKey,
        request_sha256: requestSha,
        ...(opts.droppedFields?.length ? { dropped_fields: opts.droppedFields } : {}),
        // The trace of the request (the HTTP server span, or the bus message's): the decision joins it (ADR 0015).
        ...(traceparent ? { traceparent } : {}),
      };
      try {
        const stored = await awaitDecision(input);
        // Two requests racing with one key both land here (one decision id, one Update id).
        if (opts.idempotencyKey) assertSameBody(stored, requestSha);
        const { decision } = stored;
        count(request, decision);
        return { decision, replayed: false };
      } catch (err) {
        if (err instanceof AppError) throw err;
        if (err instanceof WorkflowUpdateFailedError)
          throw new DependencyUnavailableError('decision_workflow', 'the decision could not be completed; retry with the same Idempotency-Key', { cause: err });
        throw new DependencyUnavailableError('temporal', 'the decision service is unavailable; retry with the same Idempotency-Key', { cause: err });
      }
    },
  };
}
export type DecideService = ReturnType<typeof createDecideService>;

function decisionTimeout(ms: number, workflowId: string, updateId: string): AppError {
  return new AppError(503, 'decision_timeout', `no decision within ${ms} ms; it continues as Update ${updateId} of workflow ${workflowId}`, {
    workflow_id: workflowId,
    update_id: updateId,
  });
}
