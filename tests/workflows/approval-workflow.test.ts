/**
 * The approval workflow's own rules on a real Temporal server: approvals are bound to the action digest (a revised
 * action starts over), delegation is retried with one idempotency key until the edge agent accepts, and an edge
 * agent that refuses the action (4xx) fails it without retrying.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { actionDigest } from '../../domain/approval/action-digest';
import { APPROVAL_REFUSED, approvalStatusQuery, approveUpdate, consentUpdate, reviseActionUpdate } from '../../workflows/approval/contract';
import { startFakeService, type FakeService } from '../support/fake-service';
import { requireEnv, uniqueId } from '../support/harness';
import { quietSdkLogs } from './decision-test-env';
import { approvableAction, createApprovalStores, startApproval, startApprovalWorker, vote } from './approval-test-env';

jest.setTimeout(60_000);

/** Per action: how many times to fail before accepting, or a permanent refusal. */
const behaviour = new Map<string, { failTimes?: number; refuse?: boolean }>();
let edge: FakeService;
let env: TestWorkflowEnvironment;
let stopWorker: () => Promise<void>;
const taskQueue = uniqueId('tq-approval');
const stores = createApprovalStores();

beforeAll(async () => {
  quietSdkLogs('ERROR');
  edge = await startFakeService((call) => {
    const b = behaviour.get(call.body?.action_id) ?? {};
    if (b.refuse) return { status: 422, body: { error: 'unknown repository' } };
    const seen = edge.calls.filter((c) => c.body?.action_id === call.body?.action_id).length;
    if (b.failTimes && seen <= b.failTimes) return { status: 503, body: { error: 'busy' } };
    return { status: 202, body: { execution_id: `exec-${call.body?.action_id}`, status: 'accepted' } };
  });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: requireEnv('TEST_TEMPORAL_ADDRESS') });
  const worker = await startApprovalWorker({ connection: env.nativeConnection, taskQueue, stores, edgeUrl: edge.url });
  stopWorker = worker.stop;
});
afterAll(async () => {
  await stopWorker?.();
  await env?.teardown();
  await edge?.close();
});

const consent = { actor_id: 'alice', decision: 'consent' as const, action_digest: null };

describe('dualChannelApprovalWorkflow', () => {
  it('when the action is revised after one approval, then consent and approvals start over, a vote for the old digest is refused, and the revised action is what runs', async () => {
    const { handle, input, actionId } = await startApproval(env.client, taskQueue);
    const oldDigest = input.task.action_digest;
    await handle.executeUpdate(consentUpdate, { args: [consent] });
    await handle.executeUpdate(approveUpdate, { args: [vote('bob', 'slack', 'approve', oldDigest)] });

    const revisedAction = approvableAction(actionId, { body: 'Re-run the tests of payments on release/1.2.' });
    const revised = await handle.executeUpdate(reviseActionUpdate, { args: [{ action: revisedAction }] });
    const newDigest = actionDigest(revisedAction);
    expect(revised).toEqual(expect.objectContaining({ status: 'awaiting_consent', action_digest: newDigest, approvals: [], consented_at: null }));

    await handle.executeUpdate(consentUpdate, { args: [{ ...consent, action_digest: newDigest }] });
    const stale = await handle.executeUpdate(approveUpdate, { args: [vote('carol', 'email', 'approve', oldDigest)] }).catch((e: unknown) => e);
    expect(stale).toMatchObject({ cause: { type: APPROVAL_REFUSED, details: [expect.objectContaining({ code: 'action_changed', status: 409 })] } });
    expect((await handle.query(approvalStatusQuery)).approvals).toEqual([]);

    await handle.executeUpdate(approveUpdate, { args: [vote('bob', 'slack', 'approve', newDigest)] });
    await handle.executeUpdate(approveUpdate, { args: [vote('carol', 'email', 'approve', newDigest)] });
    const result = await handle.result();
    expect(result.status).toBe('executed');
    const [call] = edge.calls.filter((c) => c.body?.action_id === actionId);
    expect(call.body.action_digest).toBe(newDigest);
    expect(call.body.action.body).toBe('Re-run the tests of payments on release/1.2.');
  });

  it('when the edge agent fails twice with 503, then the delegation is retried with the same idempotency key and the action is executed', async () => {
    const actionId = `act_${uniqueId('retry')}`;
    behaviour.set(actionId, { failTimes: 2 });
    const { handle } = await startApproval(env.client, taskQueue, { dual: false, action: approvableAction(actionId) });
    expect((await handle.executeUpdate(consentUpdate, { args: [consent] })).status).toBe('approved');
    const result = await handle.result();
    expect(result.status).toBe('executed');
    const calls = edge.calls.filter((c) => c.body?.action_id === actionId);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.headers['idempotency-key'])).size).toBe(1);
    expect(calls[0].headers['idempotency-key']).toBe(result.execution?.idempotency_key);
  });

  it('when the edge agent refuses the action with a 4xx, then it is not retried and the action fails with delegation_failed', async () => {
    const actionId = `act_${uniqueId('refused')}`;
    behaviour.set(actionId, { refuse: true });
    const { handle } = await startApproval(env.client, taskQueue, { dual: false, action: approvableAction(actionId) });
    await handle.executeUpdate(consentUpdate, { args: [consent] });
    const result = await handle.result();
    expect(result).toEqual(expect.objectContaining({ status: 'failed', failure_reason: 'delegation_failed', execution: null }));
    expect(edge.calls.filter((c) => c.body?.action_id === actionId)).toHaveLength(1);
    expect(stores.transitions.filter((t) => t.action_id === actionId).map((t) => t.event)).toEqual(['opened', 'consented', 'executing', 'failed']);
  });

  it('when the consent arrives with the start, then the opening is still the first receipt of the chain', async () => {
    const actionId = `act_${uniqueId('eager')}`;
    const { handle } = await startApproval(env.client, taskQueue, { dual: false, action: approvableAction(actionId), consentWithStart: true });
    expect((await handle.result()).status).toBe('executed');
    const chain = stores.transitions.filter((t) => t.action_id === actionId);
    expect(chain.map((t) => t.event)).toEqual(['opened', 'consented', 'executing', 'executed']);
    expect(chain.map((t) => t.seq)).toEqual([0, 1, 2, 3]);
  });

  it('when the actor declines, then the action is rejected and nothing is delegated', async () => {
    const { handle, actionId } = await startApproval(env.client, taskQueue);
    const declined = await handle.executeUpdate(consentUpdate, { args: [{ ...consent, decision: 'decline' }] });
    expect(declined.status).toBe('rejected');
    expect((await handle.result()).status).toBe('rejected');
    expect(edge.calls.filter((c) => c.body?.action_id === actionId)).toHaveLength(0);
  });
});
