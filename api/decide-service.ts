import crypto from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { AppError, ConflictError, DependencyUnavailableError } from '../domain/errors';
import { canonicalJson, sha256Hex } from '../lib/receipt-crypto';
import type { Decision, DecideRequest } from '../domain/model/decision';
import type { StoredDecision } from '../db/repositories/decision-repository';
import type { DecisionNotifier } from '../lib/decision-notifier';
import { withTimeout } from '../lib/with-timeout';
import { decideStartOptions } from '../temporal/decide-start-options';
import { decideWorkflowId } from '../temporal/workflow-ids';
import type { decideWorkflow } from '../workflows/decision/workflow';
import type { DecideWorkflowInput } from '../workflows/decision/contract';
import { sleep } from '../lib/sleep';

export interface DecideServiceDeps {
  client: Client;
  taskQueue: string;
  eagerStart: boolean;
  decisions: {
    findByIdempotencyKey(tenantId: string, key: string): Promise<StoredDecision | null>;
    get(tenantId: string, decisionId: string): Promise<Decision>;
  };
  /** How long a caller waits for a decision before getting a 503 (the workflow itself carries on). */
  resultTimeoutMs?: number;
  /** Present when a worker shares this process: committed decisions arrive without a result round trip. */
  notifier?: DecisionNotifier;
}

export interface DecideOutcome {
  decision: Decision;
  replayed: boolean;
}

/**
 * A locally started decision normally commits well within this; past it the workflow's own result is read as well,
 * which also surfaces a decision that failed (a dependency down) instead of waiting for a commit that never comes.
 */
const LOCAL_ONLY_MS = 1_000;

/** Starts the decision workflow and waits for its result: the API never decides anything itself. */
export function createDecideService(deps: DecideServiceDeps) {
  const resultTimeoutMs = deps.resultTimeoutMs ?? 10_000;

  async function replay(tenantId: string, key: string, requestSha: string): Promise<DecideOutcome | null> {
    const stored = await deps.decisions.findByIdempotencyKey(tenantId, key);
    if (!stored) return null;
    if (stored.requestSha256 !== requestSha)
      throw new ConflictError('idempotency_key_reused', 'this Idempotency-Key was used with a different request body', {
        fields: [{ field: 'Idempotency-Key', message: 'already used for another request' }],
      });
    return { decision: stored.decision, replayed: true };
  }

  return {
    async decide(request: DecideRequest, opts: { idempotencyKey: string | null; actorRoles: string[]; receivedAtMs: number; droppedFields?: string[] }): Promise<DecideOutcome> {
      const requestSha = sha256Hex(canonicalJson(request));
      if (opts.idempotencyKey) {
        const prior = await replay(request.tenant_id, opts.idempotencyKey, requestSha);
        if (prior) return prior;
      }
      const keyHash = opts.idempotencyKey ? sha256Hex(`${request.tenant_id}\u0000${opts.idempotencyKey}`) : null;
      const workflowId = decideWorkflowId(request.tenant_id, keyHash ? `idem-${keyHash.slice(0, 40)}` : crypto.randomUUID());
      const input: DecideWorkflowInput = {
        decision_id: keyHash ? `dec_${keyHash.slice(0, 32)}` : `dec_${crypto.randomUUID()}`,
        request,
        actor_roles: opts.actorRoles,
        received_at_ms: opts.receivedAtMs,
        idempotency_key: opts.idempotencyKey,
        request_sha256: requestSha,
        ...(opts.droppedFields?.length ? { dropped_fields: opts.droppedFields } : {}),
      };
      // Registered before the start, so a decision committed during the start call is not missed.
      const local = deps.notifier?.waitFor(workflowId, resultTimeoutMs);
      try {
        const handle = await deps.client.workflow.start<typeof decideWorkflow>(
          'decideWorkflow',
          decideStartOptions({ input, workflowId, taskQueue: deps.taskQueue, eagerStart: deps.eagerStart }),
        );
        const fromResult = async () =>
          deps.decisions.get(request.tenant_id, (await withTimeout(handle.result(), resultTimeoutMs, () => decisionTimeout(resultTimeoutMs, workflowId))).decision_id);
        let decision: Decision;
        if (local && handle.eagerlyStarted) {
          // This process's worker runs the decision: its commit arrives directly, without a result round trip.
          const early = await Promise.race([local.promise, sleep(LOCAL_ONLY_MS).then(() => undefined)]);
          if (early) decision = early;
          else {
            const viaResult = fromResult();
            viaResult.catch(() => undefined); // raced below; a late failure after the commit won is not unhandled
            decision = await Promise.race([local.promise.then((d) => d ?? viaResult), viaResult]);
          }
        } else decision = await fromResult();
        local?.cancel();
        // Two requests racing with one key both land here; only the one whose body matches may see the decision.
        if (opts.idempotencyKey) {
          const stored = await replay(request.tenant_id, opts.idempotencyKey, requestSha);
          if (stored && stored.decision.decision_id !== decision.decision_id) return stored;
        }
        return { decision, replayed: false };
      } catch (err) {
        local?.cancel();
        if (err instanceof WorkflowExecutionAlreadyStartedError && opts.idempotencyKey) {
          const prior = await replay(request.tenant_id, opts.idempotencyKey, requestSha);
          if (prior) return prior;
        }
        if (err instanceof AppError) throw err;
        if (err instanceof WorkflowFailedError)
          throw new DependencyUnavailableError('decision_workflow', 'the decision could not be completed; retry with the same Idempotency-Key', { cause: err });
        throw new DependencyUnavailableError('temporal', 'the decision service is unavailable; retry with the same Idempotency-Key', { cause: err });
      }
    },
  };
}
export type DecideService = ReturnType<typeof createDecideService>;

function decisionTimeout(ms: number, workflowId: string): AppError {
  return new AppError(503, 'decision_timeout', `no decision within ${ms} ms; it continues as workflow ${workflowId}`, { workflow_id: workflowId });
}

