/**
 * The approval workflow against a real Temporal server with the real activity code over in-memory stores (the same
 * narrow interfaces the PostgreSQL repositories implement) and a real HTTP edge agent (tests/support/fake-service).
 * Workers can be stopped and started again on the same task queue, over the same stores, as a redeploy would.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createDelegationClient } from '../../activities/clients/delegation-client';
import { createServiceClient } from '../../lib/clients/service-client';
import { createMemoryFatigueStore } from '../../activities/fatigue/memory-fatigue-store';
import type { ApprovalTransition } from '../../db/repositories/action-approval-repository';
import type { OutboxEntry } from '../../db/repositories/outbox-repository';
import { actionDigest, type ApprovableAction } from '../../domain/approval/action-digest';
import { DEFAULT_TENANT_POLICY, policySnapshotId, type TenantPolicy, type TenantPolicyInput } from '../../domain/model/policy';
import { approvalWorkflowId } from '../../temporal/workflow-ids';
import { consentUpdate, type ApprovalWorkflowInput } from '../../workflows/approval/contract';
import type { dualChannelApprovalWorkflow } from '../../workflows/approval/workflow';
import { createFakeRepos } from '../support/fakes';
import { requireEnv, uniqueId } from '../support/harness';

export interface ApprovalStores {
  transitions: ApprovalTransition[];
  outbox: OutboxEntry[];
  policies: Map<string, Partial<TenantPolicyInput>>;
}

export function createApprovalStores(): ApprovalStores {
  return { transitions: [], outbox: [], policies: new Map() };
}

export async function startApprovalWorker(opts: { connection: NativeConnection; taskQueue: string; stores: ApprovalStores; edgeUrl?: string; namespace?: string }) {
  const { stores } = opts;
  const edge = opts.edgeUrl ? createServiceClient({ name: 'edge_agent', baseUrl: opts.edgeUrl, timeoutMs: 5_000 }) : undefined;
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    workflowBundle: { codePath: requireEnv('WORKFLOW_BUNDLE_PATH') },
    activities: createActivities({
      repos: createFakeRepos(),
      fatigueStore: createMemoryFatigueStore(),
      actions: {
        approvals: {
          // Like the repository: one row per (action, seq); a retried write returns the first receipt.
          async recordTransition(t) {
            const prior = stores.transitions.findIndex((x) => x.action_id === t.action_id && x.seq === t.seq);
            if (prior >= 0) return { receipt_id: `rcpt_${t.action_id}_${t.seq}` };
            stores.transitions.push(t);
            return { receipt_id: `rcpt_${t.action_id}_${t.seq}` };
          },
        },
        policies: {
          async get(tenantId): Promise<TenantPolicy> {
            return { ...DEFAULT_TENANT_POLICY, ...(stores.policies.get(tenantId) ?? {}), tenant_id: tenantId, version: 1, policy_snapshot_id: policySnapshotId(tenantId, 1), updated_at: null };
          },
        },
        delegation: createDelegationClient({ edge_agent: edge }),
        outbox: {
          async record(entry) {
            if (!stores.outbox.some((e) => e.idempotency_key === entry.idempotency_key)) stores.outbox.push(entry);
            return { outbox_id: String(stores.outbox.findIndex((e) => e.idempotency_key === entry.idempotency_key) + 1) };
          },
        },
      },
    }),
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

export function approvableAction(actionId: string, over: Partial<ApprovableAction> = {}): ApprovableAction {
  return {
    action_id: actionId,
    type: 'multiplier',
    playbook_id: 'pb-rerun',
    playbook_version: 1,
    title: 'Re-run the flaky suite',
    body: 'Re-run the tests of payments on main.',
    target: 'edge_agent',
    parameters: { actor_id: 'alice', surface: 'ide', repo_id: 'payments', branch: 'main', signal_id: null, signal_kind: null },
    ...over,
  };
}

export async function startApproval(client: Client, taskQueue: string, opts: { tenant?: string; timeoutMs?: number; dual?: boolean; action?: ApprovableAction; consentWithStart?: boolean } = {}) {
  const tenant = opts.tenant ?? uniqueId('appr');
  const actionId = `act_${uniqueId('a')}`;
  const action = opts.action ?? approvableAction(actionId);
  const openedAt = new Date();
  const input: ApprovalWorkflowInput = {
    tenant_id: tenant,
    decision_id: `dec_${uniqueId('d')}`,
    task: {
      action_id: action.action_id,
      actor_id: 'alice',
      requires_dual_channel: opts.dual ?? true,
      action,
      action_digest: actionDigest(action),
      opened_at: openedAt.toISOString(),
      expires_at: new Date(openedAt.getTime() + (opts.timeoutMs ?? 10 * 60_000)).toISOString(),
    },
  };
  const options = { taskQueue, workflowId: approvalWorkflowId(tenant, action.action_id), args: [input] as [ApprovalWorkflowInput] };
  if (opts.consentWithStart) {
    // The consent travels with the start, so it is handled in the workflow's very first task.
    const start = new WithStartWorkflowOperation<typeof dualChannelApprovalWorkflow>('dualChannelApprovalWorkflow', { ...options, workflowIdConflictPolicy: 'FAIL' });
    await client.workflow.executeUpdateWithStart(consentUpdate, { args: [{ actor_id: 'alice', decision: 'consent', action_digest: null }], startWorkflowOperation: start });
    return { handle: await start.workflowHandle(), input, tenant, actionId: action.action_id };
  }
  const handle = await client.workflow.start<typeof dualChannelApprovalWorkflow>('dualChannelApprovalWorkflow', options);
  return { handle, input, tenant, actionId: action.action_id };
}

export const vote = (approverId: string, channel: string, decision: 'approve' | 'reject' = 'approve', digest: string | null = null) => ({
  approver_id: approverId,
  roles: ['approver'],
  channel,
  decision,
  comment: null,
  action_digest: digest,
});
