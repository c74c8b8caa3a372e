/**
 * decisionShardWorkflow on the real dev server, through the production decision client (Update-with-Start), with the
 * real activity code over in-memory fakes: decisions as Updates, joined retries, continue-as-new, refused Updates.
 */
import crypto from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TENANT_ID_ATTR } from '../../temporal/search-attributes';
import { decisionShardWorkflowId } from '../../temporal/workflow-ids';
import type { DecideRequest } from '../../workflows/decision/contract';
import { mirrorPlaybook } from '../support/fakes';
import { uniqueId } from '../support/harness';
import { decideInput, startDecisionTestEnv, type DecisionTestEnv } from './decision-test-env';

const { EventType } = temporal.api.enums.v1;

jest.setTimeout(90_000);

let t: DecisionTestEnv;
beforeAll(async () => {
  t = await startDecisionTestEnv();
});
afterAll(async () => {
  await t?.teardown();
});

function request(tenant: string, over: Partial<DecideRequest> = {}): DecideRequest {
  return { tenant_id: tenant, actor_id: 'actor-1', actor_type: 'human', surface: 'ide', repo_id: 'repo-1', branch: 'main', ...over };
}

function tenantWithMirror(): string {
  const tenant = uniqueId('t');
  t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror', { cooldown_minutes: 0 }));
  t.repos.setPolicy(tenant, { cooldown_minutes: 0, max_nudges_per_window: 1000 });
  return tenant;
}

async function acceptedUpdateIds(workflowId: string, runId?: string): Promise<string[]> {
  const history = await t.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId ?? '');
}

it("when a decision is sent, then it is an Update of the actor's shard workflow, stored with that workflow, its run and the Update id", async () => {
  const tenant = tenantWithMirror();
  const decisions = t.decisionClient({ shards: 4 });
  const input = decideInput(request(tenant));

  const sent = await decisions.decide(input);

  const { workflowId } = decisions.shardOf(tenant, 'actor-1');
  expect(workflowId).toMatch(new RegExp(`^${decisionShardWorkflowId(tenant, 0).replace(/0$/, '')}[0-3]$`));
  expect(sent).toMatchObject({ workflowId, updateId: input.decision_id, ref: { decision_id: input.decision_id, outcome: 'shown' } });
  const description = await t.env.client.workflow.getHandle(workflowId).describe();
  expect(description.status.name).toBe('RUNNING');
  // Ops list a tenant's decision workflows by MmmTenantId, as before.
  expect(description.typedSearchAttributes.get(TENANT_ID_ATTR)).toBe(tenant);
  const [call] = t.repos.recordCalls(tenant);
  expect(call.decision.workflow_id).toBe(workflowId);
  expect(call.recordedBy).toEqual({ workflowRunId: description.runId, updateId: input.decision_id });
  expect(await acceptedUpdateIds(workflowId)).toEqual([input.decision_id]);
});

it('when the same decision is sent five times at once, then the five calls join one Update: one context read, one commit, one answer', async () => {
  const tenant = tenantWithMirror();
  const decisions = t.decisionClient({ shards: 1 });
  const input = decideInput(request(tenant), `dec_${crypto.randomUUID()}`, 'key-1');

  const sent = await Promise.all(Array.from({ length: 5 }, () => decisions.decide(input)));

  expect(new Set(sent.map((s) => JSON.stringify(s.ref))).size).toBe(1);
  expect(t.repos.recordCalls(tenant)).toHaveLength(1);
  expect(await acceptedUpdateIds(decisionShardWorkflowId(tenant, 0))).toEqual([input.decision_id]);
});

it('when a run has taken its limit of decisions, then it continues as new, and the same decision sent again in the next run returns the decision already stored', async () => {
  const tenant = tenantWithMirror();
  const decisions = t.decisionClient({ shards: 1, maxDecisionsPerRun: 2 });
  const first = decideInput(request(tenant), `dec_${crypto.randomUUID()}`, 'key-first');
  const workflowId = decisionShardWorkflowId(tenant, 0);

  const a = await decisions.decide(first);
  const { runId: firstRun } = await t.env.client.workflow.getHandle(workflowId).describe();
  await decisions.decide(decideInput(request(tenant)));
  // The second decision filled the run: the next decision lands in a new run.
  const again = await decisions.decide(first);

  const current = await t.env.client.workflow.getHandle(workflowId).describe();
  expect(current.runId).not.toBe(firstRun);
  expect((await t.env.client.workflow.getHandle(workflowId, firstRun).describe()).status.name).toBe('CONTINUED_AS_NEW');
  expect(again.ref).toEqual(a.ref);
  // It ran again in the new run (its Update id is new there) and commitDecision found the stored decision.
  expect(await acceptedUpdateIds(workflowId, current.runId)).toEqual([first.decision_id]);
  expect(t.repos.recordCalls(tenant).filter((c) => c.decision.decision_id === first.decision_id)).toHaveLength(2);
  expect(t.repos.storedDecisions(tenant)).toHaveLength(2);
});

it('when a run that has decided reaches its maximum age, then it continues as new (so another worker may take the shard), and a run that has decided nothing stays', async () => {
  const tenant = tenantWithMirror();
  const decisions = t.decisionClient({ shards: 1, maxRunAgeMs: 1_000 });
  const handle = () => t.env.client.workflow.getHandle(decisionShardWorkflowId(tenant, 0));
  await decisions.decide(decideInput(request(tenant)));
  const { runId: first } = await handle().describe();

  await new Promise((r) => setTimeout(r, 1_800));
  const { runId: second, status } = await handle().describe();
  // The next run has decided nothing: past its own age it is still the same run.
  await new Promise((r) => setTimeout(r, 1_800));
  const idle = await handle().describe();
  const late = await decisions.decide(decideInput(request(tenant)));

  expect((await t.env.client.workflow.getHandle(handle().workflowId, first).describe()).status.name).toBe('CONTINUED_AS_NEW');
  expect(second).not.toBe(first);
  expect(status.name).toBe('RUNNING');
  expect(idle.runId).toBe(second);
  expect(idle.status.name).toBe('RUNNING');
  expect(late.ref.decision_id).toBeDefined();
  expect(t.repos.storedDecisions(tenant)).toHaveLength(2);
});

it('when decisions of many runs are sent concurrently into one shard with a limit of 3 per run, then every one is decided once', async () => {
  const tenant = tenantWithMirror();
  const decisions = t.decisionClient({ shards: 1, maxDecisionsPerRun: 3 });
  const inputs = Array.from({ length: 24 }, (_, i) => decideInput(request(tenant, { actor_id: `actor-${i}` })));

  const sent = await Promise.all(inputs.map((i) => decisions.decide(i)));

  expect(sent.map((s) => s.ref.decision_id).sort()).toEqual(inputs.map((i) => i.decision_id).sort());
  expect(t.repos.storedDecisions(tenant)).toHaveLength(24);
  expect(t.repos.recordCalls(tenant)).toHaveLength(24);
});

it('when two API processes start one shard together and keep more Updates in flight than the server allows, then the server refusals are retried and all are decided', async () => {
  // Two clients, as two API processes would be, each within its own gate of 8: 16 > the server's 10 per workflow.
  // Their concurrent Update-with-Starts into a run that is just starting sometimes come back from the server as
  // `UnprocessedUpdate` (the SDK core dropped a workflow task holding them; measured: 4 of 40 such rounds before the
  // client resent those). Three fresh shards per run of this test, so that path is crossed often.
  for (let round = 0; round < 3; round++) {
    const tenant = tenantWithMirror();
    const [one, two] = [t.decisionClient({ shards: 1 }), t.decisionClient({ shards: 1 })];
    const inputs = Array.from({ length: 32 }, (_, i) => decideInput(request(tenant, { actor_id: `actor-${i}` })));

    const sent = await Promise.all(inputs.map((i, n) => (n % 2 ? one : two).decide(i)));

    expect(sent).toHaveLength(32);
    expect(t.repos.storedDecisions(tenant)).toHaveLength(32);
  }
});

it('when a decision failed and is retried under its Idempotency-Key in the same run, then it is decided again instead of getting the old failure back', async () => {
  const tenant = tenantWithMirror();
  const decisions = t.decisionClient({ shards: 1 });
  const input = decideInput(request(tenant), `dec_${crypto.randomUUID()}`, 'key-fails');
  // Three attempts per local activity, and the client sends a failed decision once more: six failed records.
  t.repos.failRecords(tenant, 6);

  await expect(decisions.decide(input)).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
  const sent = await decisions.decide(input);

  expect(sent.ref.decision_id).toBe(input.decision_id);
  expect(sent.updateId).toMatch(new RegExp(`^${input.decision_id}/retry-`));
  expect(t.repos.storedDecisions(tenant)).toHaveLength(1);
});

it('when an Update names another tenant than its shard, then the validator refuses it and nothing is recorded', async () => {
  const tenant = tenantWithMirror();
  const decisions = t.decisionClient({ shards: 1 });
  await decisions.decide(decideInput(request(tenant)));
  const handle = t.env.client.workflow.getHandle(decisionShardWorkflowId(tenant, 0));

  const refused = handle.executeUpdate('decide', { args: [decideInput(request('another-tenant'))] });

  await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
  expect(await acceptedUpdateIds(handle.workflowId)).toHaveLength(1);
});
