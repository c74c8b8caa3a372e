import crypto from 'node:crypto';
import { actionDigest, sha256HexPure, type ApprovableAction } from '../../domain/approval/action-digest';
import {
  applyConsent,
  applyRevision,
  applyVote,
  checkConsent,
  checkVote,
  countApprovals,
  delegationTarget,
  expire,
  hasQuorum,
  initialApprovalState,
  type ApprovalState,
  type ApprovalVote,
} from '../../domain/approval/approval-rules';

const AT = '2026-01-01T00:00:00.000Z';
const action: ApprovableAction = {
  action_id: 'act_1',
  type: 'multiplier',
  playbook_id: 'pb-1',
  playbook_version: 1,
  title: 'Re-run CI',
  body: 'Re-run the suite.',
  target: 'ci',
  parameters: { repo_id: 'payments', branch: 'main' },
};
const open = (dual = true): ApprovalState =>
  initialApprovalState({ actor_id: 'alice', action_digest: actionDigest(action), requires_dual_channel: dual, expires_at: AT });
const vote = (approver_id: string, channel: string, over: Partial<ApprovalVote> = {}): ApprovalVote => ({
  approver_id,
  roles: ['approver'],
  channel,
  decision: 'approve',
  comment: null,
  action_digest: null,
  ...over,
});
const consented = (dual = true) => applyConsent(open(dual), { actor_id: 'alice', decision: 'consent', action_digest: null }, AT);

describe('action digest', () => {
  it.each(['', 'abc', 'é ✓ 漢字', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'x'.repeat(1000)])(
    'when hashing %j in the sandbox-safe SHA-256, then it equals node:crypto',
    (text) => {
      expect(sha256HexPure(text)).toBe(crypto.createHash('sha256').update(text, 'utf8').digest('hex'));
    },
  );

  it('when any executed field changes or keys are reordered, then the digest changes only for the change', () => {
    const reordered = { ...action, parameters: { branch: 'main', repo_id: 'payments' } };
    expect(actionDigest(reordered)).toBe(actionDigest(action));
    expect(actionDigest({ ...action, body: 'Re-run everything.' })).not.toBe(actionDigest(action));
    expect(actionDigest({ ...action, parameters: { ...action.parameters, branch: 'release' } })).not.toBe(actionDigest(action));
    expect(actionDigest(action)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('approval state machine', () => {
  it('when the actor consents to a dual-channel action, then it is pending; without dual channel it is approved at once', () => {
    expect(consented(true).status).toBe('pending');
    expect(consented(false).status).toBe('approved');
  });

  it('when someone other than the actor consents, or consents twice, then it is refused', () => {
    expect(checkConsent(open(), { actor_id: 'bob', decision: 'consent', action_digest: null })?.code).toBe('not_the_actor');
    expect(checkConsent(consented(), { actor_id: 'alice', decision: 'consent', action_digest: null })?.code).toBe('already_consented');
    expect(checkConsent(open(), { actor_id: 'alice', decision: 'consent', action_digest: 'sha256:other' })?.code).toBe('action_changed');
  });

  it('when two approvers approve on two channels, then it is approved and has quorum for the digest', () => {
    const one = applyVote(consented(), vote('bob', 'slack'), AT);
    expect(one.status).toBe('pending');
    const two = applyVote(one, vote('carol', 'email'), AT);
    expect(two.status).toBe('approved');
    expect(hasQuorum(two, actionDigest(action))).toBe(true);
    expect(hasQuorum(two, 'sha256:other')).toBe(false);
  });

  it('when a vote breaks the dual-channel rules, then the refusal names the rule', () => {
    const one = applyVote(consented(), vote('bob', 'slack'), AT);
    expect(checkVote(open(), vote('bob', 'slack'))?.code).toBe('consent_required');
    expect(checkVote(one, vote('alice', 'email'))).toEqual(expect.objectContaining({ code: 'actor_cannot_approve', status: 403 }));
    expect(checkVote(one, vote('dave', 'email', { roles: [] }))).toEqual(expect.objectContaining({ code: 'not_an_approver', status: 403 }));
    expect(checkVote(one, vote('bob', 'email'))).toEqual(expect.objectContaining({ code: 'approver_already_voted', status: 409 }));
    expect(checkVote(one, vote('carol', 'slack'))).toEqual(expect.objectContaining({ code: 'channel_already_used', status: 409 }));
    expect(checkVote(one, vote('carol', 'email', { action_digest: 'sha256:other' }))?.code).toBe('action_changed');
    expect(checkVote(one, vote('carol', 'email'))).toBeNull();
  });

  it('when anyone rejects, then the action is rejected and later votes are refused with 409', () => {
    const rejected = applyVote(consented(), vote('bob', 'slack', { decision: 'reject' }), AT);
    expect(rejected.status).toBe('rejected');
    expect(checkVote(rejected, vote('carol', 'email'))).toEqual(expect.objectContaining({ code: 'approval_rejected', status: 409 }));
  });

  it('when the deadline passes without quorum, then it expires; a decided approval does not', () => {
    const pending = applyVote(consented(), vote('bob', 'slack'), AT);
    expect(expire(pending).status).toBe('expired');
    expect(checkVote(expire(pending), vote('carol', 'email'))).toEqual(expect.objectContaining({ code: 'approval_expired', status: 409 }));
    const approved = applyVote(pending, vote('carol', 'email'), AT);
    expect(expire(approved).status).toBe('approved');
  });

  it('when the action is revised, then consent and approvals are void and it awaits consent for the new digest', () => {
    const pending = applyVote(consented(), vote('bob', 'slack'), AT);
    const revised = applyRevision(pending, 'sha256:new');
    expect(revised).toEqual(expect.objectContaining({ status: 'awaiting_consent', action_digest: 'sha256:new', approvals: [], consent: null }));
    expect(applyRevision(pending, pending.action_digest)).toBe(pending);
  });

  it('when counting approvals, then only approving votes for the digest count, once per approver and per channel', () => {
    const d = 'sha256:d';
    const v = (approver_id: string, channel: string, decision: 'approve' | 'reject' = 'approve', action_digest = d) => ({ approver_id, channel, decision, comment: null, action_digest, at: AT });
    expect(countApprovals([v('bob', 'slack'), v('bob', 'email'), v('carol', 'slack'), v('dan', 'web', 'reject'), v('eve', 'sms', 'approve', 'sha256:x')], d)).toBe(1);
    expect(countApprovals([v('bob', 'slack'), v('carol', 'email')], d)).toBe(2);
  });

  it('when a multiplier comes from CI or a PR, then CI runs it; otherwise the edge agent', () => {
    expect(['ci', 'pr', 'ide', 'alert'].map(delegationTarget)).toEqual(['ci', 'ci', 'edge_agent', 'edge_agent']);
  });
});
