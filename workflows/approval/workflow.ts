import { ApplicationFailure, allHandlersFinished, condition, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { actionDigest, type ApprovableAction } from '../../domain/approval/action-digest';
import {
  applyConsent,
  applyRevision,
  applyVote,
  checkConsent,
  checkRevision,
  checkVote,
  expire,
  fail,
  finishExecution,
  hasQuorum,
  initialApprovalState,
  isOpen,
  startExecution,
  type ApprovalState,
  type Refusal,
} from '../../domain/approval/approval-rules';
import {
  APPROVAL_REFUSED,
  approvalStatusQuery,
  approveUpdate,
  consentUpdate,
  reviseActionUpdate,
  type ApprovalStatusView,
  type ApprovalWorkflowInput,
} from './messages';

/**
 * Receipts written while consent and votes may arrive: regular activities. Their results come back as history events,
 * so a replay sees them in the order the first run did, also when an update's receipt and the workflow's own are in
 * flight at once (local activities there broke replay: tests/workflows/approval-survival.test.ts caught it).
 * Retried until the database is back: a transition is never lost.
 */
const store = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * After the quorum every update is refused by its validator (nothing is written), so the rest runs alone: the policy
 * re-check and the receipts are local activities, which saves an activity task round trip each.
 */
const afterQuorum = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Delegation: the client's own timeout is 5 s; a few retries with backoff, none for a refusal (4xx). */
const delegation = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: ['DelegationRejected'] },
});

function refuse(refusal: Refusal | null): void {
  if (refusal) throw ApplicationFailure.create({ type: APPROVAL_REFUSED, message: refusal.message, details: [refusal], nonRetryable: true });
}

function view(input: ApprovalWorkflowInput, s: ApprovalState): ApprovalStatusView {
  return {
    action_id: input.task.action_id,
    decision_id: input.decision_id,
    status: s.status,
    action_digest: s.action_digest,
    required_approvals: s.required_approvals,
    consented_at: s.consent?.at ?? null,
    approvals: s.approvals.map((a) => ({ approver_id: a.approver_id, channel: a.channel, decision: a.decision, at: a.at, comment: a.comment })),
    expires_at: s.expires_at,
    execution: s.execution,
    failure_reason: s.failure_reason,
  };
}

/**
 * The approval of one multiplier action: the actor's consent, then (for sensitive actions) two approvals from two
 * channels by two approvers, before the deadline; then policy once more, and delegation to the edge agent or CI.
 * Consent and votes are Updates: their validators refuse what the rules forbid before anything is written, and the
 * caller gets the new status once its receipt is in the ledger. Started by the decision with ParentClosePolicy
 * ABANDON, so it outlives it.
 */
export async function dualChannelApprovalWorkflow(input: ApprovalWorkflowInput): Promise<ApprovalStatusView> {
  const { task } = input;
  let action: ApprovableAction = task.action;
  let state = initialApprovalState({
    actor_id: task.actor_id,
    action_digest: task.action_digest,
    requires_dual_channel: task.requires_dual_channel,
    expires_at: task.expires_at,
  });

  // Built synchronously from the state at the moment of the transition; concurrent handlers each keep their own seq.
  const transition = (event: string, detail: Record<string, unknown> = {}) => ({
      action_id: task.action_id,
      tenant_id: input.tenant_id,
      decision_id: input.decision_id,
      seq: state.seq,
      status: state.status,
      event,
      action_digest: state.action_digest,
      detail,
      at: new Date().toISOString(),
    });
  // Receipts of updates wait for the opening's: the chain reads in the order things happened.
  let openingRecorded = false;
  const record = async (event: string, detail: Record<string, unknown> = {}) => {
    const t = transition(event, detail);
    await condition(() => openingRecorded);
    return store.recordApprovalTransition(t);
  };
  const recordAlone = (event: string, detail: Record<string, unknown> = {}) => afterQuorum.recordApprovalTransition(transition(event, detail));

  // Built before any handler is registered: an update that arrived with the start runs inside setHandler, and would
  // otherwise take the opening's seq (one receipt per (action, seq)), so the opening would never reach the ledger.
  const opened = transition('opened', { actor_id: task.actor_id, required_approvals: state.required_approvals, expires_at: state.expires_at, target: action.target });

  setHandler(approvalStatusQuery, () => view(input, state));
  setHandler(
    consentUpdate,
    async (req) => {
      state = applyConsent(state, req, new Date().toISOString());
      const after = view(input, state);
      await record(req.decision === 'decline' ? 'declined' : 'consented', { actor_id: req.actor_id });
      return after;
    },
    { validator: (req) => refuse(checkConsent(state, req)) },
  );
  setHandler(
    approveUpdate,
    async (vote) => {
      state = applyVote(state, vote, new Date().toISOString());
      const after = view(input, state);
      await record('vote', { approver_id: vote.approver_id, channel: vote.channel, decision: vote.decision });
      return after;
    },
    { validator: (vote) => refuse(checkVote(state, vote)) },
  );
  setHandler(
    reviseActionUpdate,
    async ({ action: revised }) => {
      action = revised;
      state = applyRevision(state, actionDigest(revised));
      const after = view(input, state);
      await record('revised', {});
      return after;
    },
    { validator: ({ action: revised }) => refuse(revised.action_id !== task.action_id ? { code: 'action_mismatch', status: 422, message: 'a revision keeps the action id' } : checkRevision(state)) },
  );

  await store.recordApprovalTransition(opened);
  openingRecorded = true;

  const untilDeadline = Math.max(1, Date.parse(state.expires_at) - new Date().getTime());
  const decided = await condition(() => !isOpen(state.status), untilDeadline);
  // The transition that decided it writes its receipt first, so the chain reads in the order things happened.
  await condition(allHandlersFinished);
  if (!decided) {
    state = expire(state);
    await record('expired');
    return finish(input, () => state);
  }
  if (state.status !== 'approved') return finish(input, () => state);

  // What runs is exactly what was approved: the digest is recomputed from the action held here.
  const digest = actionDigest(action);
  if (!hasQuorum(state, digest)) {
    state = fail(state, 'approval_digest_mismatch');
    await recordAlone('failed', { reason: state.failure_reason });
    return finish(input, () => state);
  }

  const policy = await afterQuorum.recheckActionPolicy({ tenant_id: input.tenant_id, action_type: action.type });
  if (!policy.allowed) {
    state = fail(state, 'policy_disallowed');
    await recordAlone('failed', { reason: state.failure_reason, policy_snapshot_id: policy.policy_snapshot_id });
    return finish(input, () => state);
  }

  state = startExecution(state);
  await recordAlone('executing', { policy_snapshot_id: policy.policy_snapshot_id, target: action.target });
  try {
    const execution = await delegation.delegateAction({
      target: action.target,
      idempotency_key: `${workflowInfo().workflowId}/${digest}`,
      action: {
        tenant_id: input.tenant_id,
        action_id: task.action_id,
        decision_id: input.decision_id,
        action_digest: digest,
        action: { ...action },
        approvals: state.approvals.filter((a) => a.decision === 'approve').map((a) => ({ approver_id: a.approver_id, channel: a.channel, at: a.at })),
      },
    });
    state = finishExecution(state, execution);
    await recordAlone('executed', { execution_id: execution.execution_id, via: execution.via, target: execution.target });
  } catch (err) {
    state = fail(state, 'delegation_failed');
    await recordAlone('failed', { reason: state.failure_reason, error: (err as Error).message?.slice(0, 300) ?? 'unknown' });
  }
  return finish(input, () => state);
}

/** Lets running update handlers write their receipts before the workflow completes. */
async function finish(input: ApprovalWorkflowInput, current: () => ApprovalState): Promise<ApprovalStatusView> {
  await condition(allHandlersFinished);
  return view(input, current());
}
