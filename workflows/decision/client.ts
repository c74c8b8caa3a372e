/**
 * How decisions reach Temporal (ADR 0012): an Update into the long-lived workflow of the actor's (tenant, shard),
 * Update-with-Start the first time this process reaches the shard. Used by the API's decide service (HTTP and bus signals) and by tests; it runs in Node, never in the
 * workflow sandbox.
 */
import crypto from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DecisionRef } from '../../domain/model/decision';
import { TENANT_ID_ATTR } from '../../temporal/search-attributes';
import { decisionShardOf, decisionShardWorkflowId } from '../../temporal/workflow-ids';
import { createKeyedGate } from '../../lib/keyed-gate';
import { sleep } from '../../lib/sleep';
import type { DecideWorkflowInput } from './contract';
import { DECISION_SHARD_WORKFLOW_TYPE, decideUpdate, SHARD_DRAINING, type DecisionShardInput } from './messages';
import type { decisionShardWorkflow } from './shard-workflow';

export interface DecisionClientOptions {
  client: Client;
  taskQueue: string;
  /** Shard workflows per tenant: an actor's decisions always go to shard FNV-1a(actor_id) mod shards. */
  shards: number;
  /** Decisions a shard run accepts before it continues as new (the server's limit is 2,000 Updates per run). */
  maxDecisionsPerRun: number;
  /** A shard run also continues as new at this age, so workers added later take their share (absent: never). */
  maxRunAgeMs?: number;
  /**
   * Updates this process keeps in flight per shard workflow; the rest wait here, in order. The server refuses an
   * 11th in-flight Update of one workflow (RESOURCE_EXHAUSTED); the SDK's native client retries that itself, but
   * only after about a second (measured: 2-3 s for two processes sharing one shard), so one process never asks.
   */
  maxInFlightPerShard?: number;
}

/** Where a decision was recorded: the shard workflow and the Update (its id derives from the decision id). */
export interface DecisionSent {
  ref: DecisionRef;
  workflowId: string;
  updateId: string;
}

/** How long a refused Update (run draining, server busy) is retried before the caller gets the error. */
const RESEND_FOR_MS = 10_000;

export function createDecisionClient(opts: DecisionClientOptions) {
  const limit = opts.maxInFlightPerShard ?? 8;
  const gated = createKeyedGate(limit);

  function shardOf(tenantId: string, actorId: string): { workflowId: string; shard: number } {
    const shard = decisionShardOf(actorId, opts.shards);
    return { shard, workflowId: decisionShardWorkflowId(tenantId, shard) };
  }

  /**
   * Shards this process has reached: a plain Update costs the client and the server less than Update-with-Start
   * (no start request to build, encode and check). A shard is never closed, only continued as new, and an Update
   * without a run id reaches its current run; should one be gone anyway, the Update-with-Start brings it back.
   */
  const running = new Set<string>();
  /**
   * The Update-with-Start in flight per shard this process has not reached yet: the calls behind it wait for it and
   * then send plain Updates. Many concurrent Update-with-Starts into a run that is just starting are where the SDK's
   * core drops a workflow task ("a new WFT for a run which already has one"), and the server then rejects its Updates
   * as unprocessed (isUnprocessed below).
   */
  const starting = new Map<string, Promise<unknown>>();

  async function send(input: DecideWorkflowInput, workflowId: string, shard: number, updateId: string): Promise<DecisionRef> {
    const start = starting.get(workflowId);
    if (start && !running.has(workflowId)) await start.catch(() => undefined);
    if (running.has(workflowId)) {
      try {
        return await opts.client.workflow.getHandle(workflowId).executeUpdate(decideUpdate, { args: [input], updateId });
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        running.delete(workflowId);
      }
    }
    const sent = sendWithStart(input, workflowId, shard, updateId);
    if (!starting.has(workflowId)) {
      starting.set(workflowId, sent);
      void sent.then(
        () => starting.delete(workflowId),
        () => starting.delete(workflowId),
      );
    }
    const ref = await sent;
    running.add(workflowId);
    return ref;
  }

  function sendWithStart(input: DecideWorkflowInput, workflowId: string, shard: number, updateId: string): Promise<DecisionRef> {
    const shardInput: DecisionShardInput = { tenant_id: input.request.tenant_id, shard, max_decisions_per_run: opts.maxDecisionsPerRun, ...(opts.maxRunAgeMs ? { max_run_age_ms: opts.maxRunAgeMs } : {}) };
    return opts.client.workflow.executeUpdateWithStart(decideUpdate, {
      args: [input],
      updateId,
      startWorkflowOperation: new WithStartWorkflowOperation<typeof decisionShardWorkflow>(DECISION_SHARD_WORKFLOW_TYPE, {
        taskQueue: opts.taskQueue,
        workflowId,
        args: [shardInput],
        // The first decision of a shard starts its workflow; every later one (and every concurrent first) joins it.
        workflowIdConflictPolicy: 'USE_EXISTING',
        // A worker that dies mid-decision holds the shard's task this long before another worker replays it.
        workflowTaskTimeout: '5 seconds',
        typedSearchAttributes: [{ key: TENANT_ID_ATTR, value: input.request.tenant_id }],
      }),
    });
  }

  return {
    shardOf,
    /**
     * Sends one decision and waits for its reference. The Update id is the decision id, so concurrent retries with one
     * Idempotency-Key join one Update within a run (across runs, commitDecision returns the decision already stored).
     */
    async decide(input: DecideWorkflowInput): Promise<DecisionSent> {
      const { workflowId, shard } = shardOf(input.request.tenant_id, input.request.actor_id);
      return gated(workflowId, async () => {
        const deadline = Date.now() + RESEND_FOR_MS;
        let updateId = input.decision_id;
        let retriedFailure = false;
        for (let attempt = 0; ; attempt++) {
          try {
            return { ref: await send(input, workflowId, shard, updateId), workflowId, updateId };
          } catch (err) {
            const resend = isDraining(err) || isTooManyUpdates(err) || isUnprocessed(err);
            if (resend && Date.now() < deadline) {
              await sleep(Math.min(50, 2 ** attempt));
              continue;
            }
            // The server keeps a failed Update's outcome for its id for the whole run, so a decision that failed (a
            // dependency was down) and is retried under the same Idempotency-Key would get that failure back unrun.
            // One fresh id per call decides it again; its activities are idempotent by decision id.
            if (err instanceof WorkflowUpdateFailedError && input.idempotency_key !== null && !retriedFailure) {
              retriedFailure = true;
              updateId = `${input.decision_id}/retry-${crypto.randomUUID().slice(0, 8)}`;
              continue;
            }
            throw err;
          }
        }
      });
    },
  };
}
export type DecisionClient = ReturnType<typeof createDecisionClient>;

function isDraining(err: unknown): boolean {
  return err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === SHARD_DRAINING;
}

/**
 * The server rejected the Update because the worker completed a workflow task without processing it (the server's
 * `UnprocessedUpdate`): nothing ran and nothing is recorded, so sending it again under the same id is safe. Seen when
 * two processes start one shard with concurrent Update-with-Starts (tests/workflows/decision-shard-workflow.test.ts).
 */
function isUnprocessed(err: unknown): boolean {
  return err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === UNPROCESSED_UPDATE;
}
const UNPROCESSED_UPDATE = 'UnprocessedUpdate';

/** The server's "too many in-flight Updates" (more API processes than one gate sees): RESOURCE_EXHAUSTED. */
function isTooManyUpdates(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 8 || /in-flight|too many.*update|RESOURCE_EXHAUSTED/i.test(e.message)) return true;
  }
  return false;
}
