import { decisionOutcome } from '../../domain/action-planning';
import { applyFatigueVerdicts, isOverBudget, receiptPayload } from '../../domain/decision-assembly';
import type { FatigueVerdict } from '../../domain/fatigue';
import type { Decision, DecisionRef } from '../../domain/model/decision';
import type { RecordDecision, StoredDecision } from '../../db/repositories/decision-repository';
import type { OpenApproval } from '../../db/repositories/action-approval-repository';
import { requiredApprovals } from '../../domain/approval/approval-rules';
import { approvalWorkflowId } from '../../temporal/workflow-ids';
import { createFatigueActivities } from '../fatigue/fatigue-activities';
import type { FatigueStore } from '../fatigue/fatigue-store';
import type { PrivacyGuard } from '../governance/privacy-guard';
import { policyFailModeOf } from '../policy/policy-resolver';
import { PRIVACY_FIELDS_DROPPED } from '../../domain/privacy/privacy-filter';
import type { DecisionNotifier } from '../../lib/decision-notifier';
import { settleBatch, type BatchItemError } from '../context/context-activities';
import { inItemSpan, traceIdOf } from '../../observability/trace-context';
import type { CommitDecisionInput } from '../../domain/decision-steps';

export type { CommitDecisionInput } from '../../domain/decision-steps';

export interface DecisionStoreDeps {
  decisions: {
    /** The decision stored, or the one stored earlier under its id, with the request hash it was stored for. */
    record(input: RecordDecision): Promise<StoredDecision>;
    /** Several decisions of one tenant in one transaction, in order (decision-repository.ts). */
    recordMany?(inputs: RecordDecision[]): Promise<StoredDecision[]>;
  };
  /** Tells an API in the same process that the decision is durable (see decision-notifier.ts). */
  notifier?: DecisionNotifier;
  /** Where the approvals of multiplier actions are opened (see openApprovals). */
  actionApprovals?: { open(rows: OpenApproval[]): Promise<void> };
  now?: () => number;
  /** Data governance: the tenant's privacy config applied to the receipt payload before it is signed. */
  privacy?: Pick<PrivacyGuard, 'applyCached'>;
}


/**
 * The approval of each shown multiplier action is opened before the decision is announced, so the actor can consent
 * as soon as the answer arrives. Idempotent (a retried commit opens nothing twice).
 */
async function openApprovals(deps: DecisionStoreDeps, input: CommitDecisionInput, decision: Decision): Promise<void> {
  const shown = new Set(decision.actions.map((a) => a.action_id));
  const tasks = (input.approvals ?? []).filter((t) => shown.has(t.action_id));
  if (tasks.length === 0 || !deps.actionApprovals) return;
  await deps.actionApprovals.open(
    tasks.map((t) => ({
      action_id: t.action_id,
      tenant_id: decision.tenant_id,
      decision_id: decision.decision_id,
      actor_id: t.actor_id,
      workflow_id: approvalWorkflowId(decision.tenant_id, t.action_id),
      action_digest: t.action_digest,
      required_approvals: requiredApprovals(t.requires_dual_channel),
      expires_at: t.expires_at,
    })),
  );
}

export function createDecisionActivities(deps: DecisionStoreDeps & { fatigueStore: FatigueStore }) {
  const now = deps.now ?? Date.now;
  const { reserveNudges } = createFatigueActivities({ fatigueStore: deps.fatigueStore });
  const withPrivacy = (tenantId: string, payload: Record<string, unknown>) => deps.privacy?.applyCached(tenantId, payload) ?? payload;
  /** The nudge reservation (Redis, atomic, keyed by decision id) and the record to store. */
  async function prepare(input: CommitDecisionInput): Promise<RecordDecision> {
    const degraded = [...input.degraded_reasons];
    const droppedFields = input.dropped_fields ?? [];
    if (droppedFields.length > 0) degraded.push(PRIVACY_FIELDS_DROPPED);
    let verdicts: FatigueVerdict[] | 'unavailable' = [];
    let remaining: number | null = null;
    if (input.plan.candidates.length > 0) {
      const reserved = await reserveNudges({
        tenant_id: input.request.tenant_id,
        actor_id: input.request.actor_id,
        decision_id: input.decision_id,
        now: Date.parse(input.created_at),
        window_ms: input.fatigue.window_ms,
        max: input.fatigue.max,
        candidates: input.plan.candidates.map((c) => ({ key: c.cooldown_key, cooldown_ms: c.cooldown_ms })),
      });
      if (reserved.available) {
        verdicts = reserved.verdicts;
        remaining = reserved.remaining;
      } else {
        verdicts = 'unavailable';
        degraded.push('fatigue_store_unavailable');
      }
    }
    const budget = { remaining, max: input.fatigue.max, window_minutes: Math.round(input.fatigue.window_ms / 60_000) };
    const { actions, suppressed } = applyFatigueVerdicts(input.plan, verdicts, budget);
    const outcome = decisionOutcome(actions, suppressed);
    const latency = Math.max(0, now() - input.received_at_ms);
    const policySnapshotId = input.context.policy_snapshot_id;
    return {
      decision: {
        decision_id: input.decision_id,
        tenant_id: input.request.tenant_id,
        actor_id: input.request.actor_id,
        created_at: input.created_at,
        context: input.context,
        actions,
        suppressed,
        outcome,
        policy_snapshot_id: policySnapshotId,
        latency_ms: latency,
        latency_warning: isOverBudget(input.request.surface, latency),
        degraded_mode: degraded.length > 0,
        degraded_reasons: degraded,
        dropped_fields: droppedFields,
        workflow_id: input.workflow_id,
        trace_id: traceIdOf(input.traceparent),
      },
      surface: input.request.surface,
      idempotencyKey: input.idempotency_key,
      requestSha256: input.request_sha256,
      ...(input.update_id ? { recordedBy: { workflowRunId: input.workflow_run_id ?? null, updateId: input.update_id } } : {}),
      receiptPayload: withPrivacy(input.request.tenant_id, {
        ...receiptPayload({
          request: input.request, outcome, actions, suppressed, policySnapshotId, degradedReasons: degraded, workflowId: input.workflow_id,
        }),
        // FR-11: the policy fail mode this decision used is part of what it is accountable for.
        policy_fail_mode: policyFailModeOf(degraded),
      }),
    };
  }

  /** After the decision is durable: its approvals opened, the API in this process told, the reference returned. */
  async function finish(input: CommitDecisionInput, stored: StoredDecision): Promise<DecisionRef> {
    const { decision } = stored;
    await openApprovals(deps, input, decision);
    deps.notifier?.committed(decision.decision_id, stored);
    const ref: DecisionRef = { decision_id: decision.decision_id, receipt_id: decision.receipt_id, outcome: decision.outcome };
    // Only decisions that will start follow-ups carry the shown action ids (keeps older histories' results unchanged).
    // Alert-surface decisions that show actions deliver their alerts after the answer (alert-delivery-v1).
    if (input.approvals !== undefined || decision.actions.some((a) => a.type === 'mentor') || (input.request.surface === 'alert' && decision.actions.length > 0))
      ref.action_ids = decision.actions.map((a) => a.action_id);
    return ref;
  }

  const api = {
    /**
     * Reserves the nudges the plan wants (Redis, atomic) and stores the decision with its signed receipt (PostgreSQL,
     * one transaction). One local activity for both keeps a decision to two activations of the workflow. A retry is
     * safe: both the reservation and the record are keyed by decision id and return what the first attempt did.
     * Latency is measured here, from the API receiving the request to the decision being durable.
     */
    async commitDecision(input: CommitDecisionInput): Promise<DecisionRef> {
      return finish(input, await deps.decisions.record(await prepare(input)));
    },

    /**
     * The decisions of one shard workflow task in one local activity (ADR 0012): each reserved as commitDecision does,
     * then all stored in one transaction (they share the tenant's receipt chain). Per-item errors as in
     * loadDecisionContexts; a retry returns what the first attempt stored, by decision id.
     */
    async commitDecisions(inputs: CommitDecisionInput[]): Promise<Array<DecisionRef | BatchItemError>> {
      const prepared = await Promise.allSettled(inputs.map((i) => inItemSpan('decision commit', i.traceparent, () => prepare(i))));
      const ready = prepared.flatMap((p, i) => (p.status === 'fulfilled' ? [{ i, record: p.value }] : []));
      // One transaction for all of them (one chain lock, one look for earlier commits); should it fail, each is
      // stored on its own, so one bad decision does not take the batch down with it.
      let stored: Array<PromiseSettledResult<StoredDecision>> | undefined;
      if (deps.decisions.recordMany && ready.length > 1) {
        try {
          stored = (await deps.decisions.recordMany(ready.map((r) => r.record))).map((d) => ({ status: 'fulfilled', value: d }));
        } catch {
          stored = undefined;
        }
      }
      stored ??= await Promise.allSettled(ready.map((r) => deps.decisions.record(r.record)));
      const results: Array<PromiseSettledResult<DecisionRef>> = prepared.map((p) => (p.status === 'rejected' ? p : { status: 'rejected', reason: new Error('not stored') }));
      await Promise.all(
        ready.map(async (r, n) => {
          const s = stored[n];
          results[r.i] = s.status === 'fulfilled' ? await finish(inputs[r.i], s.value).then((v) => ({ status: 'fulfilled' as const, value: v }), (reason) => ({ status: 'rejected' as const, reason })) : s;
        }),
      );
      return settleBatch(results);
    },
  };
  return api;
}
