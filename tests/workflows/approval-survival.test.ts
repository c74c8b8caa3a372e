/**
 * The approval workflow survives what deployments do to it: its worker killed between two approvals (a new worker
 * on the same task queue carries on), and the Temporal dev server restarted on its SQLite file (a server of our own,
 * started here). In both, the second approval completes the quorum and the action is delegated exactly once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { startTemporalDevServer } from '../../temporal/dev-server';
import { APPROVAL_REFUSED, approveUpdate, consentUpdate, approvalStatusQuery } from '../../workflows/approval/contract';
import { startFakeService, type FakeService } from '../support/fake-service';
import { requireEnv, uniqueId } from '../support/harness';
import { quietSdkLogs } from './decision-test-env';
import { createApprovalStores, startApproval, startApprovalWorker, vote } from './approval-test-env';

jest.setTimeout(120_000);

let edge: FakeService;
beforeAll(async () => {
  quietSdkLogs('ERROR');
  edge = await startFakeService((call) => ({ status: 202, body: { execution_id: `exec-${call.body?.action_id}`, status: 'accepted' } }));
});
afterAll(async () => {
  await edge.close();
});

describe('dualChannelApprovalWorkflow survival', () => {
  it('when the worker is killed between the first and the second approval, then a new worker on the same task queue completes the approval and the action is executed once', async () => {
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address: requireEnv('TEST_TEMPORAL_ADDRESS') });
    const taskQueue = uniqueId('tq-approval-kill');
    const stores = createApprovalStores();
    try {
      const first = await startApprovalWorker({ connection: env.nativeConnection, taskQueue, stores, edgeUrl: edge.url });
      const { handle, actionId } = await startApproval(env.client, taskQueue);
      await handle.executeUpdate(consentUpdate, { args: [{ actor_id: 'alice', decision: 'consent', action_digest: null }] });
      const afterFirst = await handle.executeUpdate(approveUpdate, { args: [vote('bob', 'slack')] });
      expect(afterFirst.status).toBe('pending');
      await first.stop();

      const second = await startApprovalWorker({ connection: env.nativeConnection, taskQueue, stores, edgeUrl: edge.url });
      try {
        // The new worker has no cached state: it rebuilds the workflow from history before it validates this vote.
        const repeated = await handle.executeUpdate(approveUpdate, { args: [vote('bob', 'email')] }).catch((err: unknown) => err);
        expect(repeated).toMatchObject({ cause: { type: APPROVAL_REFUSED, details: [expect.objectContaining({ code: 'approver_already_voted', status: 409 })] } });
        const approved = await handle.executeUpdate(approveUpdate, { args: [vote('carol', 'email')] });
        expect(approved.status).toBe('approved');
        const result = await handle.result();
        expect(result.status).toBe('executed');
        expect(result.execution).toEqual(expect.objectContaining({ via: 'service', execution_id: `exec-${actionId}` }));
      } finally {
        await second.stop();
      }
      expect(edge.calls.filter((c) => c.body?.action_id === actionId)).toHaveLength(1);
      const events = stores.transitions.filter((t) => t.action_id === actionId).map((t) => [t.seq, t.event]);
      expect(events).toEqual([[0, 'opened'], [1, 'consented'], [2, 'vote'], [3, 'vote'], [4, 'executing'], [5, 'executed']]);
    } finally {
      await env.teardown();
    }
  });

  it('when the Temporal dev server is restarted on its database file mid-approval, then the approval carries on after the restart and the action is executed once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'approval-restart-'));
    const dbFilename = path.join(dir, 'temporal.db');
    const taskQueue = uniqueId('tq-approval-restart');
    const stores = createApprovalStores();
    let server = await startTemporalDevServer({ namespace: 'default', dbFilename });
    const port = Number(server.address.split(':')[1]);
    try {
      let connection = await NativeConnection.connect({ address: server.address });
      let clientConnection = await Connection.connect({ address: server.address });
      let client = new Client({ connection: clientConnection });
      let worker = await startApprovalWorker({ connection, taskQueue, stores, edgeUrl: edge.url });
      const { handle, actionId } = await startApproval(client, taskQueue);
      const workflowId = handle.workflowId;
      await handle.executeUpdate(consentUpdate, { args: [{ actor_id: 'alice', decision: 'consent', action_digest: null }] });
      await handle.executeUpdate(approveUpdate, { args: [vote('bob', 'slack')] });
      await worker.stop();
      await clientConnection.close();
      await connection.close();
      await server.stop();

      server = await startTemporalDevServer({ namespace: 'default', dbFilename, port });
      connection = await NativeConnection.connect({ address: server.address });
      clientConnection = await Connection.connect({ address: server.address });
      client = new Client({ connection: clientConnection });
      worker = await startApprovalWorker({ connection, taskQueue, stores, edgeUrl: edge.url });
      try {
        const restored = client.workflow.getHandle(workflowId);
        const before = await restored.query(approvalStatusQuery);
        expect(before).toEqual(expect.objectContaining({ status: 'pending', approvals: [expect.objectContaining({ approver_id: 'bob', channel: 'slack' })] }));
        await restored.executeUpdate(approveUpdate, { args: [vote('carol', 'email')] });
        const result = await restored.result();
        expect(result.status).toBe('executed');
      } finally {
        await worker.stop();
        await clientConnection.close();
        await connection.close();
      }
      expect(edge.calls.filter((c) => c.body?.action_id === actionId)).toHaveLength(1);
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
