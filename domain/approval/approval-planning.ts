/**
 * What the decide workflow does for multiplier actions before it commits: each one is bound to the digest of exactly
 * what would be executed, with its approval deadline and quorum, so the decision shows the actor what consent covers.
 */
import type { ActionPlan, CandidateAction } from '../action-planning';
import type { Signal } from '../model/signal';
import { actionDigest, type ApprovableAction } from './action-digest';
import { delegationTarget, requiredApprovals } from './approval-rules';

export interface ApprovalTask {
  action_id: string;
  actor_id: string;
  requires_dual_channel: boolean;
  action: ApprovableAction;
  action_digest: string;
  opened_at: string;
  expires_at: string;
}

export interface ApprovalPlanArgs {
  request: { actor_id: string; surface: string; repo_id?: string | null; branch?: string | null; signal?: Signal | null };
  now: Date;
  approval_timeout_minutes: number;
}

export function approvableAction(c: CandidateAction, request: ApprovalPlanArgs['request']): ApprovableAction {
  return {
    action_id: c.action.action_id,
    type: c.action.type,
    playbook_id: c.action.playbook_id,
    playbook_version: c.action.playbook_version,
    title: c.action.payload.title,
    body: c.action.payload.body,
    target: delegationTarget(request.surface),
    parameters: {
      actor_id: request.actor_id,
      surface: request.surface,
      repo_id: request.repo_id ?? null,
      branch: request.branch ?? null,
      signal_id: request.signal?.signal_id ?? null,
      signal_kind: request.signal?.kind ?? null,
    },
  };
}

export function planMultiplierActions(plan: ActionPlan, args: ApprovalPlanArgs): { plan: ActionPlan; tasks: ApprovalTask[] } {
  const tasks: ApprovalTask[] = [];
  const openedAt = args.now.toISOString();
  const expiresAt = new Date(args.now.getTime() + Math.round(args.approval_timeout_minutes * 60_000)).toISOString();
  const candidates = plan.candidates.map((c): CandidateAction => {
    if (c.action.type !== 'multiplier') return c;
    const action = approvableAction(c, args.request);
    const digest = actionDigest(action);
    tasks.push({
      action_id: c.action.action_id,
      actor_id: args.request.actor_id,
      requires_dual_channel: c.action.requires_dual_channel,
      action,
      action_digest: digest,
      opened_at: openedAt,
      expires_at: expiresAt,
    });
    const approval = {
      action_digest: digest,
      required_approvals: requiredApprovals(c.action.requires_dual_channel),
      target: action.target,
      expires_at: expiresAt,
    };
    return { ...c, action: { ...c.action, payload: { ...c.action.payload, approval } } };
  });
  return { plan: { ...plan, candidates }, tasks };
}
