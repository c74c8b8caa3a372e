/**
 * The approval state machine of a multiplier action (FR-6), as pure functions so the approval workflow, its update
 * validators and the tests share one definition:
 *
 *   awaiting_consent ─consent─▶ pending ─2 approvals─▶ approved ─▶ executing ─▶ executed | failed
 *          │                     │   (no dual channel: consent ─▶ approved)
 *          └──────── any reject ─┴──▶ rejected          no quorum before the deadline ─▶ expired
 *
 * Dual channel: two approvals from two distinct channels by two distinct people holding `approver`, neither of them
 * the actor. Every vote and the consent are bound to the action digest; revising the action starts over.
 */
export const APPROVAL_STATUSES = ['awaiting_consent', 'pending', 'approved', 'rejected', 'expired', 'executing', 'executed', 'failed'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** Approvals a dual-channel action needs; an action without dual channel needs the actor's consent only. */
export const DUAL_CHANNEL_QUORUM = 2;

/** Approvals an action needs besides the actor's consent: a dual-channel quorum, or none. */
export function requiredApprovals(requiresDualChannel: boolean): number {
  return requiresDualChannel ? DUAL_CHANNEL_QUORUM : 0;
}
export const APPROVER_ROLE = 'approver';

export interface ApprovalVote {
  approver_id: string;
  roles: string[];
  channel: string;
  decision: 'approve' | 'reject';
  comment: string | null;
  /** The digest the approver saw; when given it must be the current one. */
  action_digest: string | null;
}

export interface RecordedVote {
  approver_id: string;
  channel: string;
  decision: 'approve' | 'reject';
  comment: string | null;
  action_digest: string;
  at: string;
}

export interface ConsentRequest {
  actor_id: string;
  decision: 'consent' | 'decline';
  action_digest: string | null;
}

export interface Execution {
  target: 'edge_agent' | 'ci';
  via: 'service' | 'outbox';
  execution_id: string | null;
  status: string;
  idempotency_key: string;
}

export interface ApprovalState {
  status: ApprovalStatus;
  actor_id: string;
  action_digest: string;
  required_approvals: number;
  consent: { at: string; action_digest: string } | null;
  approvals: RecordedVote[];
  expires_at: string;
  execution: Execution | null;
  failure_reason: string | null;
  /** Incremented on every transition (status change or vote); each one leaves a receipt. */
  seq: number;
}

export interface Refusal {
  code: string;
  status: 403 | 409 | 422;
  message: string;
}

const OPEN: ApprovalStatus[] = ['awaiting_consent', 'pending'];

export function isOpen(status: ApprovalStatus): boolean {
  return OPEN.includes(status);
}

export function initialApprovalState(args: { actor_id: string; action_digest: string; requires_dual_channel: boolean; expires_at: string }): ApprovalState {
  return {
    status: 'awaiting_consent',
    actor_id: args.actor_id,
    action_digest: args.action_digest,
    required_approvals: requiredApprovals(args.requires_dual_channel),
    consent: null,
    approvals: [],
    expires_at: args.expires_at,
    execution: null,
    failure_reason: null,
    seq: 0,
  };
}

export function closedRefusal(status: ApprovalStatus): Refusal {
  if (status === 'expired') return { code: 'approval_expired', status: 409, message: 'the approval window of this action has expired' };
  if (status === 'rejected') return { code: 'approval_rejected', status: 409, message: 'this action was rejected' };
  return { code: 'approval_closed', status: 409, message: `this action is already ${status}` };
}

function digestRefusal(state: ApprovalState, given: string | null): Refusal | null {
  if (given !== null && given !== state.action_digest)
    return { code: 'action_changed', status: 409, message: 'the action changed since it was shown; review the current action_digest and try again' };
  return null;
}

export const NOT_THE_ACTOR: Refusal = { code: 'not_the_actor', status: 403, message: 'only the actor can consent to their own action' };

export function checkConsent(state: ApprovalState, req: ConsentRequest): Refusal | null {
  if (req.actor_id !== state.actor_id) return NOT_THE_ACTOR;
  if (state.status !== 'awaiting_consent') {
    if (state.status === 'pending') return { code: 'already_consented', status: 409, message: 'the actor has already consented' };
    return closedRefusal(state.status);
  }
  return digestRefusal(state, req.action_digest);
}

export function applyConsent(state: ApprovalState, req: ConsentRequest, at: string): ApprovalState {
  if (req.decision === 'decline') return { ...state, status: 'rejected', seq: state.seq + 1 };
  const consent = { at, action_digest: state.action_digest };
  const status: ApprovalStatus = state.required_approvals > 0 ? 'pending' : 'approved';
  return { ...state, consent, status, seq: state.seq + 1 };
}

export function checkVote(state: ApprovalState, vote: ApprovalVote): Refusal | null {
  if (!vote.roles.includes(APPROVER_ROLE)) return { code: 'not_an_approver', status: 403, message: 'approving needs the approver role' };
  if (vote.approver_id === state.actor_id) return { code: 'actor_cannot_approve', status: 403, message: 'the actor cannot approve their own action' };
  if (state.status === 'awaiting_consent') return { code: 'consent_required', status: 409, message: 'the actor has not consented yet' };
  if (state.status !== 'pending') return closedRefusal(state.status);
  const changed = digestRefusal(state, vote.action_digest);
  if (changed) return changed;
  if (state.approvals.some((a) => a.approver_id === vote.approver_id))
    return { code: 'approver_already_voted', status: 409, message: 'this approver has already approved this action; a second approval must come from someone else' };
  if (state.approvals.some((a) => a.channel === vote.channel))
    return { code: 'channel_already_used', status: 409, message: `an approval already came through channel ${vote.channel}; the second must use another channel` };
  return null;
}

export function applyVote(state: ApprovalState, vote: ApprovalVote, at: string): ApprovalState {
  const recorded: RecordedVote = {
    approver_id: vote.approver_id,
    channel: vote.channel,
    decision: vote.decision,
    comment: vote.comment,
    action_digest: state.action_digest,
    at,
  };
  const approvals = [...state.approvals, recorded];
  let status: ApprovalStatus = state.status;
  if (vote.decision === 'reject') status = 'rejected';
  else if (countApprovals(approvals, state.action_digest) >= state.required_approvals) status = 'approved';
  return { ...state, approvals, status, seq: state.seq + 1 };
}

/** Approvals that count: approving votes for the current digest, one per approver and per channel. */
export function countApprovals(votes: RecordedVote[], digest: string): number {
  const approvers = new Set<string>();
  const channels = new Set<string>();
  for (const v of votes) {
    if (v.decision !== 'approve' || v.action_digest !== digest) continue;
    if (approvers.has(v.approver_id) || channels.has(v.channel)) continue;
    approvers.add(v.approver_id);
    channels.add(v.channel);
  }
  return approvers.size;
}

/** Whether the approvals that were given are a quorum for the digest about to be executed. */
export function hasQuorum(state: ApprovalState, digest: string): boolean {
  if (!state.consent || state.consent.action_digest !== digest) return false;
  return countApprovals(state.approvals, digest) >= state.required_approvals;
}

export function checkRevision(state: ApprovalState): Refusal | null {
  return isOpen(state.status) ? null : closedRefusal(state.status);
}

/** A changed action voids the consent and every approval given so far: they were for something else. */
export function applyRevision(state: ApprovalState, newDigest: string): ApprovalState {
  if (newDigest === state.action_digest) return state;
  return { ...state, action_digest: newDigest, consent: null, approvals: [], status: 'awaiting_consent', seq: state.seq + 1 };
}

export function expire(state: ApprovalState): ApprovalState {
  return isOpen(state.status) ? { ...state, status: 'expired', seq: state.seq + 1 } : state;
}

export function startExecution(state: ApprovalState): ApprovalState {
  return { ...state, status: 'executing', seq: state.seq + 1 };
}

export function finishExecution(state: ApprovalState, execution: Execution): ApprovalState {
  return { ...state, status: 'executed', execution, seq: state.seq + 1 };
}

export function fail(state: ApprovalState, reason: string): ApprovalState {
  return { ...state, status: 'failed', failure_reason: reason, seq: state.seq + 1 };
}

/** Where a multiplier action is executed: CI for CI and PR surfaces, the actor's edge agent otherwise. */
export function delegationTarget(surface: string): 'edge_agent' | 'ci' {
  return surface === 'ci' || surface === 'pr' ? 'ci' : 'edge_agent';
}
