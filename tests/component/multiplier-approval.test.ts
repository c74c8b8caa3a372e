/**
 * Multiplier actions end to end over HTTP: the decision opens an approval workflow per multiplier action; the actor
 * consents, two approvers approve on two channels, policy is checked again and the action is delegated to the edge
 * agent (a real HTTP server started here) with an idempotency key, or recorded in the outbox when no CI is set.
 * Every refusal is a 4xx that changes nothing; every transition leaves a receipt in the tenant's chain.
 */
import { verifyReceipt } from '../../lib/receipt-crypto';
import { startFakeService, type FakeService } from '../support/fake-service';
import { uniqueId, useTestApp, type TestApp } from '../support/harness';
import { decide, decideBody, decisionRecorded, expectEnvelope, newTenant, publishPlaybook, putPolicy, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(60000);

let edge: FakeService;
beforeAll(async () => {
  edge = await startFakeService((call) => ({ status: 202, body: { execution_id: `exec-${call.body?.action_id}`, status: 'accepted' } }));
});
afterAll(async () => {
  await edge.close();
});
const app = useTestApp(() => ({ EDGE_AGENT_BASE_URL: edge.url }));

const multiplier = (over: Record<string, unknown> = {}) =>
  requestPlaybook(
    { type: 'multiplier', title: 'Re-run the flaky suite', body: 'Re-run the tests of {{repo_id}} on {{branch}}.', requires_consent: true, requires_dual_channel: true, ...over },
    { name: 'Re-run flaky tests', category: 'ci_hygiene' },
  );

async function multiplierDecision(a: TestApp, fx: TenantFixture, opts: { surface?: string; policy?: Record<string, unknown>; action?: Record<string, unknown> } = {}) {
  await putPolicy(a, fx, { approval_timeout_minutes: 10, ...(opts.policy ?? {}) });
  await publishPlaybook(a, fx.admin, multiplier(opts.action));
  const res = await decide(a, fx.service, decideBody(fx.tenant, { surface: opts.surface ?? 'ide', repo_id: 'payments', branch: 'main' }));
  expect(res.status).toBe(200);
  const action = res.body.actions.find((x: { type: string }) => x.type === 'multiplier');
  expect(action).toBeDefined();
  return { decision: res.body, action };
}

const approver = (fx: TenantFixture, sub: string) => app.token({ tenant_id: fx.tenant, sub, roles: ['approver'] });
const consent = (fx: TenantFixture, actionId: string, token = fx.actor('alice'), body: Record<string, unknown> = {}) =>
  app.request('POST', `/v1/mmm/actions/${actionId}/consent`, { token, body });
const approve = (token: string, actionId: string, body: Record<string, unknown>) => app.request('POST', `/v1/mmm/actions/${actionId}/approve`, { token, body });
const status = (fx: TenantFixture, actionId: string) => app.request('GET', `/v1/mmm/actions/${actionId}/approval-status`, { token: fx.service });

async function waitForStatus(fx: TenantFixture, actionId: string, wanted: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await status(fx, actionId);
    if (res.status === 200 && wanted.includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`approval stayed ${JSON.stringify(res.body)}; wanted ${wanted.join(' or ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dual-channel approval of a multiplier action', () => {
  it('when the actor consents and two approvers approve on two channels, then the action is delegated to the edge agent once, with an idempotency key, and every transition has a signed receipt', async () => {
    const fx = newTenant(app);
    const { decision, action } = await multiplierDecision(app, fx);
    expect(action.requires_consent).toBe(true);
    expect(action.requires_dual_channel).toBe(true);
    expect(action.payload.approval).toEqual(expect.objectContaining({ action_digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), required_approvals: 2, target: 'edge_agent' }));

    const consented = await consent(fx, action.action_id, fx.actor('alice'), { action_digest: action.payload.approval.action_digest });
    expect(consented.status).toBe(200);
    expect(consented.body.status).toBe('pending');

    // The decision's Update has completed; its approval workflow (ParentClosePolicy ABANDON) goes on.
    const client = app.runtime.temporal.client;
    expect(await decisionRecorded(app, decision.decision_id)).toMatchObject({ ref: { decision_id: decision.decision_id } });
    const approvalRun = await client.workflow.getHandle(`approval/${fx.tenant}/${action.action_id}`).describe();
    expect({ status: approvalRun.status.name, parent: approvalRun.parentExecution?.workflowId }).toEqual({ status: 'RUNNING', parent: decision.workflow_id });

    const first = await approve(approver(fx, 'bob'), action.action_id, { channel: 'slack', decision: 'approve' });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('pending');
    expect(first.body.approvals).toEqual([expect.objectContaining({ approver_id: 'bob', channel: 'slack', decision: 'approve' })]);

    const second = await approve(approver(fx, 'carol'), action.action_id, { channel: 'email', decision: 'approve', comment: 'fine' });
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('approved');

    const done = await waitForStatus(fx, action.action_id, ['executed', 'failed']);
    expect(done.status).toBe('executed');
    expect(done.execution).toEqual(expect.objectContaining({ target: 'edge_agent', via: 'service', execution_id: `exec-${action.action_id}`, status: 'accepted' }));
    const calls = edge.calls.filter((c) => c.body?.action_id === action.action_id);
    expect(calls).toHaveLength(1);
    expect(calls[0].path).toBe('/v1/edge/actions');
    expect(calls[0].headers['idempotency-key']).toBe(done.execution.idempotency_key);
    expect(calls[0].body.action_digest).toBe(action.payload.approval.action_digest);
    expect(calls[0].body.approvals.map((x: { channel: string }) => x.channel)).toEqual(['slack', 'email']);

    const chain = await app.runtime.repos.ledger.chain(fx.tenant);
    const kinds = chain.map((r) => r.kind);
    expect(kinds).toEqual(['decision', 'approval.opened', 'approval.consented', 'approval.vote', 'approval.vote', 'approval.executing', 'approval.executed']);
    const [{ public_key }] = (await app.runtime.repos.ledger.publicKeys()).filter((k) => k.key_id === chain[0].key_id);
    for (const r of chain) expect(verifyReceipt(r, public_key)).toBe(true);
    expect(chain.every((r) => r.decision_id === decision.decision_id)).toBe(true);
    const metrics = await app.request('GET', '/metrics');
    expect(metrics.body).toMatch(/mmm_approval_transitions_total\{event="executed",status="executed"\} [1-9]/);
  });

  it('when the rules are broken (someone else consents, approval before consent, the actor approves, a non-approver, a repeated approver or channel, a stale digest), then each is refused with a clear 4xx and nothing changes', async () => {
    const fx = newTenant(app);
    const { action } = await multiplierDecision(app, fx);
    const id = action.action_id;

    const notActor = await consent(fx, id, fx.actor('mallory'));
    expect(notActor.status).toBe(403);
    expectEnvelope(notActor.body, 'forbidden_actor');

    const early = await approve(approver(fx, 'bob'), id, { channel: 'slack', decision: 'approve' });
    expect(early.status).toBe(409);
    expectEnvelope(early.body, 'consent_required');

    const stale = await consent(fx, id, fx.actor('alice'), { action_digest: `sha256:${'0'.repeat(64)}` });
    expect(stale.status).toBe(409);
    expectEnvelope(stale.body, 'action_changed');

    expect((await consent(fx, id)).status).toBe(200);
    const again = await consent(fx, id);
    expect(again.status).toBe(409);
    expectEnvelope(again.body, 'already_consented');

    const actorApproves = await approve(app.token({ tenant_id: fx.tenant, sub: 'alice', roles: ['approver'] }), id, { channel: 'slack', decision: 'approve' });
    expect(actorApproves.status).toBe(403);
    expectEnvelope(actorApproves.body, 'actor_cannot_approve');

    const noRole = await approve(fx.actor('dave'), id, { channel: 'slack', decision: 'approve' });
    expect(noRole.status).toBe(403);
    expectEnvelope(noRole.body, 'forbidden_role');

    expect((await approve(approver(fx, 'bob'), id, { channel: 'slack', decision: 'approve' })).status).toBe(200);
    const sameApprover = await approve(approver(fx, 'bob'), id, { channel: 'email', decision: 'approve' });
    expect(sameApprover.status).toBe(409);
    expectEnvelope(sameApprover.body, 'approver_already_voted');
    const sameChannel = await approve(approver(fx, 'carol'), id, { channel: 'slack', decision: 'approve' });
    expect(sameChannel.status).toBe(409);
    expectEnvelope(sameChannel.body, 'channel_already_used');

    const badBody = await approve(approver(fx, 'carol'), id, { channel: 'Slack!', decision: 'maybe' });
    expect(badBody.status).toBe(422);
    expect(badBody.body.error.details.fields.map((f: { field: string }) => f.field).sort()).toEqual(['channel', 'decision']);

    const now = await status(fx, id);
    expect(now.body.status).toBe('pending');
    expect(now.body.approvals).toHaveLength(1);
    const kinds = (await app.runtime.repos.ledger.chain(fx.tenant)).map((r) => r.kind);
    expect(kinds).toEqual(['decision', 'approval.opened', 'approval.consented', 'approval.vote']);
  });

  it('when an approver rejects, then the action is rejected and a later approval gets 409', async () => {
    const fx = newTenant(app);
    const { action } = await multiplierDecision(app, fx);
    await consent(fx, action.action_id);
    const rejected = await approve(approver(fx, 'bob'), action.action_id, { channel: 'slack', decision: 'reject', comment: 'not now' });
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('rejected');
    await waitForStatus(fx, action.action_id, ['rejected']);
    const late = await approve(approver(fx, 'carol'), action.action_id, { channel: 'email', decision: 'approve' });
    expect(late.status).toBe(409);
    expectEnvelope(late.body, 'approval_rejected');
  });

  it('when no quorum is reached before the tenant approval timeout, then the action expires and approving it gets 409', async () => {
    const fx = newTenant(app);
    const { action } = await multiplierDecision(app, fx, { policy: { approval_timeout_minutes: 0.05 } });
    await consent(fx, action.action_id);
    const expired = await waitForStatus(fx, action.action_id, ['expired']);
    expect(Date.parse(expired.expires_at)).toBeLessThanOrEqual(Date.now());
    const late = await approve(approver(fx, 'bob'), action.action_id, { channel: 'slack', decision: 'approve' });
    expect(late.status).toBe(409);
    expectEnvelope(late.body, 'approval_expired');
    // The workflow's state turns expired before its activity has written the receipt of it: wait for the receipt.
    const deadline = Date.now() + 20_000;
    let kinds = (await app.runtime.repos.ledger.chain(fx.tenant)).map((r) => r.kind);
    while (!kinds.includes('approval.expired') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      kinds = (await app.runtime.repos.ledger.chain(fx.tenant)).map((r) => r.kind);
    }
    expect(kinds.slice(-1)).toEqual(['approval.expired']);
  });

  it('when the tenant stops allowing multiplier actions before the second approval, then the approved action fails on the policy re-check and is not delegated', async () => {
    const fx = newTenant(app);
    const { action } = await multiplierDecision(app, fx);
    await consent(fx, action.action_id);
    await approve(approver(fx, 'bob'), action.action_id, { channel: 'slack', decision: 'approve' });
    await putPolicy(app, fx, { approval_timeout_minutes: 10, allowed_action_types: ['mirror', 'mentor'] });
    await approve(approver(fx, 'carol'), action.action_id, { channel: 'email', decision: 'approve' });
    const failed = await waitForStatus(fx, action.action_id, ['failed', 'executed']);
    expect(failed.status).toBe('failed');
    expect(failed.failure_reason).toBe('policy_disallowed');
    expect(edge.calls.filter((c) => c.body?.action_id === action.action_id)).toHaveLength(0);
  });

  it('when the action needs no dual channel and CI is not configured, then consent alone approves it and the hand-off is recorded in the outbox', async () => {
    const fx = newTenant(app);
    const { action } = await multiplierDecision(app, fx, { surface: 'ci', action: { requires_dual_channel: false, surfaces: ['ci'] } });
    expect(action.payload.approval).toEqual(expect.objectContaining({ required_approvals: 0, target: 'ci' }));
    const consented = await consent(fx, action.action_id);
    expect(consented.body.status).toBe('approved');
    const done = await waitForStatus(fx, action.action_id, ['executed', 'failed']);
    expect(done.execution).toEqual(expect.objectContaining({ target: 'ci', via: 'outbox', status: 'queued' }));
    const outbox = await app.runtime.repos.outbox.pending(fx.tenant, 'ci');
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toEqual(expect.objectContaining({ action_id: action.action_id, idempotency_key: done.execution.idempotency_key }));
    expect((outbox[0].payload as { action_digest: string }).action_digest).toBe(action.payload.approval.action_digest);
  });

  it('when another tenant or an unknown id asks, then it gets 403 or 404', async () => {
    const fx = newTenant(app);
    const { action } = await multiplierDecision(app, fx);
    const other = newTenant(app);
    const foreign = await app.request('GET', `/v1/mmm/actions/${action.action_id}/approval-status`, { token: other.service });
    expect(foreign.status).toBe(403);
    const unknown = await app.request('GET', `/v1/mmm/actions/${uniqueId('act')}/approval-status`, { token: fx.service });
    expect(unknown.status).toBe(404);
    expectEnvelope(unknown.body, 'action_not_found');
  });
});

describe('approval status before the workflow runs', () => {
  it('when the approval is opened with the decision but its workflow has not started yet, then the status comes from the projection with the quorum it needs', async () => {
    const fx = newTenant(app);
    const actionId = `act_${uniqueId('early')}`;
    const expiresAt = new Date(Date.now() + 10 * 60_000).toISOString();
    await app.runtime.repos.actionApprovals.open([
      { action_id: actionId, tenant_id: fx.tenant, decision_id: `dec_${uniqueId('d')}`, actor_id: 'alice', workflow_id: `approval/${fx.tenant}/${actionId}`, action_digest: 'a'.repeat(64), required_approvals: 2, expires_at: expiresAt },
    ]);
    const res = await status(fx, actionId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({ status: 'awaiting_consent', required_approvals: 2, approvals: [], expires_at: expiresAt }));
  });
});
