/**
 * Approval histories replay: consent sent the moment the workflow starts (its receipt and the workflow's own
 * "opened" receipt in flight together), two votes, policy re-check, delegation. Each fresh history must replay
 * cleanly against the workflow bundle; a non-deterministic step would fail a worker that restarts mid-approval.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { approveUpdate, consentUpdate } from '../../workflows/approval/contract';
import { startFakeService, type FakeService } from '../support/fake-service';
import { requireEnv, uniqueId } from '../support/harness';
import { quietSdkLogs } from './decision-test-env';
import { createApprovalStores, startApproval, startApprovalWorker, vote } from './approval-test-env';

jest.setTimeout(60_000);

let edge: FakeService;
beforeAll(async () => {
  quietSdkLogs('ERROR');
  edge = await startFakeService(() => ({ status: 202, body: { execution_id: 'exec-1', status: 'accepted' } }));
});
afterAll(async () => {
  await edge.close();
});

it('when approvals run with updates racing the workflow start, then every history replays without non-determinism', async () => {
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: requireEnv('TEST_TEMPORAL_ADDRESS') });
  const taskQueue = uniqueId('tq-approval-replay');
  const worker = await startApprovalWorker({ connection: env.nativeConnection, taskQueue, stores: createApprovalStores(), edgeUrl: edge.url });
  try {
    const histories = [];
    for (let i = 0; i < 5; i++) {
      const { handle } = await startApproval(env.client, taskQueue);
      // Not awaited one by one: the consent and the first vote reach the workflow while it is still starting.
      const consent = handle.executeUpdate(consentUpdate, { args: [{ actor_id: 'alice', decision: 'consent', action_digest: null }] });
      await consent;
      await Promise.all([
        handle.executeUpdate(approveUpdate, { args: [vote('bob', 'slack')] }),
        handle.executeUpdate(approveUpdate, { args: [vote('carol', 'email')] }),
      ]);
      expect((await handle.result()).status).toBe('executed');
      histories.push({ workflowId: handle.workflowId, history: await handle.fetchHistory() });
    }
    const outcome: Record<string, unknown> = {};
    for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: requireEnv('WORKFLOW_BUNDLE_PATH') } }, histories)) outcome[r.workflowId] = r.error ?? null;
    expect(outcome).toEqual(Object.fromEntries(histories.map((h) => [h.workflowId, null])));
  } finally {
    await worker.stop();
    await env.teardown();
  }
});
