/**
 * decideWorkflow on the real dev server, with the real activity code over in-memory fakes. No time skipping: the
 * decision has no timers.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ACTOR_ID_ATTR, OUTCOME_ATTR, SURFACE_ATTR, TENANT_ID_ATTR } from '../../temporal/search-attributes';
import type { Decision, DecisionRef } from '../../domain/model/decision';
import type { DecideRequest } from '../../workflows/decision/contract';
import { mirrorPlaybook, recentSignal } from '../support/fakes';
import { uniqueId } from '../support/harness';
import { quietHoursAround, startDecisionTestEnv, type DecisionTestEnv } from './decision-test-env';

const { EventType } = temporal.api.enums.v1;

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


/** The workflow returns a reference; the decision itself is what the (fake) repository stored. */
async function decisionOf(handle: { result(): Promise<DecisionRef> }, tenant: string): Promise<Decision> {
  const ref = await handle.result();
  const stored = t.repos.storedDecisions(tenant).find((d) => d.decision_id === ref.decision_id);
  if (!stored) throw new Error(`decision ${ref.decision_id} was not stored`);
  expect(ref).toEqual({ decision_id: stored.decision_id, receipt_id: stored.receipt_id, outcome: stored.outcome });
  return stored;
}

it('when a published mirror playbook matches, then one action is shown, recorded with a receipt and MmmOutcome is shown', async () => {
  const tenant = uniqueId('t');
  t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror'));
  t.repos.addSignals(tenant, 'actor-1', [recentSignal('sig-1')]);

  const handle = await t.startDecision(request(tenant));
  const decision = await decisionOf(handle, tenant);

  expect(decision.outcome).toBe('shown');
  expect(decision.actions).toHaveLength(1);
  // No preferred surfaces and none on the action: it may be delivered on every surface.
  expect(decision.actions[0]).toMatchObject({ type: 'mirror', playbook_id: 'pb-mirror', playbook_version: 1, surfaces: ['ide', 'ci', 'pr', 'alert'] });
  expect(decision.actions[0].payload.title).toBe('Your recent work on repo-1');
  expect(decision.suppressed).toEqual([]);
  expect(decision.degraded_mode).toBe(false);
  expect(decision.context.recent_signals.map((s) => s.signal_id)).toEqual(['sig-1']);
  expect(decision.workflow_id).toBe(handle.workflowId);
  expect(decision.receipt_id).toMatch(/^rcpt_fake_/);
  expect(t.repos.storedDecisions(tenant)).toEqual([decision]);

  const description = await handle.describe();
  expect(description.typedSearchAttributes.get(OUTCOME_ATTR)).toBe('shown');
  expect(description.typedSearchAttributes.get(TENANT_ID_ATTR)).toBe(tenant);
  expect(description.typedSearchAttributes.get(ACTOR_ID_ATTR)).toBe('actor-1');
  expect(description.typedSearchAttributes.get(SURFACE_ATTR)).toBe('ide');
  expect(description.searchAttributes).toMatchObject({ MmmOutcome: ['shown'], MmmTenantId: [tenant] });
});

it('when the decision ran, then its history is small and uses local activities only', async () => {
  const tenant = uniqueId('t');
  t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror'));
  const handle = await t.startDecision(request(tenant));
  await handle.result();

  const { events } = await handle.fetchHistory();
  const types = (events ?? []).map((e) => e.eventType);
  expect(types.length).toBeLessThanOrEqual(20);
  expect(types).not.toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  // The mentor-multiplier-v1 patch marker, loadDecisionContext, commitDecision.
  expect(types.filter((x) => x === EventType.EVENT_TYPE_MARKER_RECORDED)).toHaveLength(3);
  expect(types).toContain(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
  expect(types[types.length - 1]).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
});

it('when the fatigue store is unavailable, then nothing is shown, the action is suppressed as fatigue_unavailable and the decision is degraded', async () => {
  const tenant = uniqueId('t');
  t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror'));

  const handle = await t.startDecision(request(tenant), { taskQueue: t.unavailableFatigueTaskQueue });
  const decision = await decisionOf(handle, tenant);

  expect(decision.actions).toEqual([]);
  expect(decision.outcome).toBe('suppressed');
  expect(decision.suppressed).toEqual([{ playbook_id: 'pb-mirror', playbook_version: 1, action_type: 'mirror', reason: 'fatigue_unavailable' }]);
  expect(decision.degraded_mode).toBe(true);
  expect(decision.degraded_reasons).toContain('fatigue_store_unavailable');
  expect(t.repos.recordCalls(tenant)).toHaveLength(1);
  expect((await handle.describe()).typedSearchAttributes.get(OUTCOME_ATTR)).toBe('suppressed');
});

it('when the actor is in quiet hours, then the action is suppressed as quiet_hours without reserving a slot', async () => {
  const tenant = uniqueId('t');
  t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror'));
  t.repos.setPolicy(tenant, { quiet_hours: quietHoursAround() });

  // The unavailable store would mark the decision degraded if the workflow asked it: quiet hours must not ask.
  const decision = await decisionOf(await t.startDecision(request(tenant), { taskQueue: t.unavailableFatigueTaskQueue }), tenant);

  expect(decision.outcome).toBe('suppressed');
  expect(decision.actions).toEqual([]);
  expect(decision.suppressed).toEqual([{ playbook_id: 'pb-mirror', playbook_version: 1, action_type: 'mirror', reason: 'quiet_hours' }]);
  expect(decision.context.in_quiet_hours).toBe(true);
  expect(decision.degraded_reasons).toEqual([]);
});

it('when more playbooks match than the fatigue limit allows, then the rest are suppressed as fatigue_limit', async () => {
  const tenant = uniqueId('t');
  t.repos.setPolicy(tenant, { max_nudges_per_window: 1 });
  t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-a'));
  t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-b'));

  const decision = await decisionOf(await t.startDecision(request(tenant)), tenant);

  expect(decision.outcome).toBe('shown');
  expect(decision.actions.map((a) => a.playbook_id)).toEqual(['pb-a']);
  expect(decision.suppressed).toEqual([{ playbook_id: 'pb-b', playbook_version: 1, action_type: 'mirror', reason: 'fatigue_limit' }]);
});

it('when no playbook is published, then the outcome is no_match and the decision is still recorded with a receipt', async () => {
  const tenant = uniqueId('t');

  const handle = await t.startDecision(request(tenant, { surface: 'ci' }));
  const decision = await decisionOf(handle, tenant);

  expect(decision.outcome).toBe('no_match');
  expect(decision.actions).toEqual([]);
  expect(decision.suppressed).toEqual([]);
  expect(decision.receipt_id).toMatch(/^rcpt_fake_/);
  const calls = t.repos.recordCalls(tenant);
  expect(calls).toHaveLength(1);
  expect(calls[0]).toMatchObject({ surface: 'ci', idempotencyKey: null, receiptPayload: { outcome: 'no_match', workflow_id: handle.workflowId } });
  expect((await handle.describe()).typedSearchAttributes.get(OUTCOME_ATTR)).toBe('no_match');
});

it('when a decision failed because its store was down, then a retry with the same idempotency workflow id decides again, and a completed one is never re-run', async () => {
  const tenant = uniqueId('t');
  t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror'));
  // What the API derives from one Idempotency-Key: the same workflow id and the same decision id on every attempt.
  const workflowId = `decide/${tenant}/idem-retry`;
  const decisionId = `dec_${uniqueId('x').replace(/[^0-9a-f]/g, '').padEnd(32, '0')}`;
  // Three failures exhaust the local activity's three attempts: the workflow fails, nothing is stored.
  t.repos.failRecords(tenant, 3);

  const failed = await t.startDecision(request(tenant), { workflowId, decisionId });
  await expect(failed.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  expect(t.repos.storedDecisions(tenant)).toEqual([]);

  const retried = await t.startDecision(request(tenant), { workflowId, decisionId });
  const decision = await decisionOf(retried, tenant);
  // The failed run's nudge reservation belongs to the same decision id, so the retry is shown, not cooled down.
  expect(decision.outcome).toBe('shown');
  expect(decision.decision_id).toBe(decisionId);
  expect(t.repos.storedDecisions(tenant)).toHaveLength(1);

  await expect(t.startDecision(request(tenant), { workflowId, decisionId })).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
});
