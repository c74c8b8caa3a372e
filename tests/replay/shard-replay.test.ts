/**
 * Replay keeps decisionShardWorkflow deterministic (ADR 0012): every history in tests/replay/histories/decision-shard
 * must replay against the current workflow bundle, Updates, local-activity markers, child starts and continue-as-new
 * included. Recording works as in decide-replay.test.ts:
 *
 *   RECORD_HISTORIES=1 npx jest tests/replay/shard-replay.test.ts
 *
 * Stored histories are those of older code: after a deliberate, versioned change keep the old files and add new ones
 * (the `one-activity-` files are those of batches decided in one local activity, behind the patch
 * `decision-shard-one-activity`; the others were recorded before it and replay its two-activity branch).
 */
import fs from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { decideWorkflowInputSchema, type DecideRequest } from '../../workflows/decision/contract';
import { decisionShardWorkflowId } from '../../temporal/workflow-ids';
import { playbookInputSchema } from '../../domain/model/playbook';
import { mirrorPlaybook } from '../support/fakes';
import { requireEnv, uniqueId } from '../support/harness';
import { decideInput, quietSdkLogs, startDecisionTestEnv } from '../workflows/decision-test-env';

type History = temporal.api.history.v1.IHistory;
const { EventType } = temporal.api.enums.v1;

jest.setTimeout(120_000);

const DIR = path.join(__dirname, 'histories', 'decision-shard');
const RECORD = process.env.RECORD_HISTORIES === '1';

function stored(): Array<{ name: string; history: History }> {
  const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort() : [];
  return files.map((f) => ({ name: f, history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'))) }));
}

async function replayAll(options: ReplayWorkerOptions, histories: Array<{ name: string; history: History }>) {
  const outcome: Record<string, unknown> = {};
  for await (const result of Worker.runReplayHistories(options, histories.map(({ name, history }) => ({ workflowId: name, history })))) {
    outcome[result.workflowId] = result.error ?? null;
  }
  return outcome;
}

const bundle = (): ReplayWorkerOptions => ({ workflowBundle: { codePath: requireEnv('WORKFLOW_BUNDLE_PATH') } });

function updateInputs(history: History): unknown[] {
  return (history.events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    .map((e) => defaultPayloadConverter.fromPayload(e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads?.[0] ?? {}));
}

/** The activity types of a history's local-activity markers, in order. */
function localActivityTypes(history: History): string[] {
  return (history.events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
    .map((e) => (defaultPayloadConverter.fromPayload(e.markerRecordedEventAttributes?.details?.data?.payloads?.[0] ?? {}) as { activity_type: string }).activity_type);
}

/** Histories recorded before a batch ran as one local activity (ADR 0012); kept, and still replayed. */
const TWO_ACTIVITY_HISTORIES = ['continued-as-new-shown-no-match-alert.json', 'after-continue-as-new.json', 'shown-mentor-multiplier.json', 'suppressed-fatigue-unavailable.json', 'shown-thompson-experiment.json'];
/** The same scenarios recorded with one local activity per batch. */
const ONE_ACTIVITY = (name: string) => `one-activity-${name}`;

beforeAll(() => quietSdkLogs('ERROR'));

it('when decisions of each kind run as Updates of shard workflows, then their fresh histories replay cleanly (and are stored with RECORD_HISTORIES=1)', async () => {
  const t = await startDecisionTestEnv();
  try {
    const request = (tenant: string, over: Partial<DecideRequest> = {}): DecideRequest => ({
      tenant_id: tenant, actor_id: 'actor-1', actor_type: 'human', surface: 'ide', repo_id: 'repo-1', branch: 'main', ...over,
    });
    const [mirror, mentor, unavailable] = [uniqueId('replay'), uniqueId('replay'), uniqueId('replay')];
    for (const tenant of [mirror, unavailable]) t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror', { cooldown_minutes: 0 }));
    t.repos.publishPlaybook(mentor, {
      playbook_id: 'pb-mentor-multiplier',
      version: 1,
      definition: playbookInputSchema.parse({
        name: 'Mentor and multiplier', category: 'ci_hygiene', triggers: [{ kind: 'request' }],
        actions: [
          { type: 'mentor', title: 'Smaller changes on {{branch}}', body: 'Smaller pull requests get reviewed sooner.', cooldown_minutes: 0 },
          { type: 'multiplier', title: 'Re-run CI', body: 'Re-run the suite of {{repo_id}}.', requires_consent: true, requires_dual_channel: true, cooldown_minutes: 0 },
        ],
      }),
    });
    t.repos.setPolicy(mentor, { llm_enabled: true });

    // A run of three decisions (shown, no match, shown on the alert surface with its alert delivery) that then
    // continues as new; the decisions sent at once share workflow tasks.
    const three = t.decisionClient({ shards: 1, maxDecisionsPerRun: 3 });
    const outcomes = await Promise.all([
      three.decide(decideInput(request(mirror))),
      // A signal of a kind no playbook is triggered by: nothing matches.
      three.decide(decideInput(request(mirror, {
        actor_id: 'actor-2',
        signal: { signal_id: 'sig-nomatch', source: 'ubi', kind: 'build_failures', severity: 'medium', occurred_at: new Date().toISOString(), payload: {} },
      }))),
      three.decide(decideInput(request(mirror, { actor_id: 'actor-3', surface: 'alert' }))),
    ]);
    expect(outcomes.map((o) => o.ref.outcome).sort()).toEqual(['no_match', 'shown', 'shown']);
    const mirrorHandle = t.env.client.workflow.getHandle(decisionShardWorkflowId(mirror, 0));
    // The run that took them (describe() may already show the next one): as stored with each decision.
    const firstRun = t.repos.recordCalls(mirror)[0].recordedBy?.workflowRunId ?? undefined;
    await three.decide(decideInput(request(mirror, { actor_id: 'actor-4' })));

    expect((await t.decisionClient({ shards: 1 }).decide(decideInput(request(mentor)))).ref.outcome).toBe('shown');
    const unavailableRef = await t.decisionClient({ shards: 1, taskQueue: t.unavailableFatigueTaskQueue }).decide(decideInput(request(unavailable)));
    expect(unavailableRef.ref.outcome).toBe('suppressed');

    const closedRun = await t.env.client.workflow.getHandle(mirrorHandle.workflowId, firstRun).fetchHistory();
    expect(closedRun.events?.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    const histories = [
      { name: ONE_ACTIVITY('continued-as-new-shown-no-match-alert.json'), history: closedRun },
      { name: ONE_ACTIVITY('after-continue-as-new.json'), history: await mirrorHandle.fetchHistory() },
      { name: ONE_ACTIVITY('shown-mentor-multiplier.json'), history: await t.env.client.workflow.getHandle(decisionShardWorkflowId(mentor, 0)).fetchHistory() },
      { name: ONE_ACTIVITY('suppressed-fatigue-unavailable.json'), history: await t.env.client.workflow.getHandle(decisionShardWorkflowId(unavailable, 0)).fetchHistory() },
    ];
    // Every batch is one local activity now: no context or commit activity of its own.
    for (const { name, history } of histories) {
      const types = localActivityTypes(history);
      expect({ name, types: [...new Set(types)] }).toEqual({ name, types: ['decideBatch'] });
    }

    expect(await replayAll(bundle(), histories)).toEqual(Object.fromEntries(histories.map((h) => [h.name, null])));

    if (RECORD) {
      fs.mkdirSync(DIR, { recursive: true });
      for (const { name, history } of histories) fs.writeFileSync(path.join(DIR, name), historyToJSON(history));
    }
  } finally {
    await t.teardown();
  }
});

it('when a batch of decisions draws thompson arms (override and holdout), then its history replays cleanly (stored with RECORD_HISTORIES=1)', async () => {
  const t = await startDecisionTestEnv();
  try {
    const tenant = uniqueId('replay-exp');
    t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror', { cooldown_minutes: 0 }));
    t.repos.setPolicy(tenant, { max_nudges_per_window: 100 });
    t.repos.activateExperiment(tenant, {
      experiment_id: 'exp-replay', playbook_id: 'pb-mirror', strategy: 'thompson',
      arms: [
        { arm_id: 'control', weight: 0.4, holdout: false, overrides: [] },
        { arm_id: 'short', weight: 0.4, holdout: false, overrides: [{ action_index: 0, title: 'Short', priority: 80 }] },
        { arm_id: 'hold', weight: 0.2, holdout: true, overrides: [] },
      ],
    });
    const client = t.decisionClient({ shards: 1 });
    const refs = await Promise.all(Array.from({ length: 12 }, (_, i) => client.decide(decideInput({ tenant_id: tenant, actor_id: `actor-${i}`, actor_type: 'human', surface: 'ide' }))));
    const decisions = t.repos.recordCalls(tenant).map((c) => c.decision);
    const arms = decisions.map((d) => d.actions[0]?.experiment?.arm_id ?? d.suppressed.find((s) => s.reason === 'experiment_holdout')?.experiment?.arm_id);
    expect(refs).toHaveLength(12);
    expect(arms.every((a) => ['control', 'short', 'hold'].includes(a ?? ''))).toBe(true);
    const history = await t.env.client.workflow.getHandle(decisionShardWorkflowId(tenant, 0)).fetchHistory();
    const histories = [{ name: ONE_ACTIVITY('shown-thompson-experiment.json'), history }];
    expect(new Set(localActivityTypes(history))).toEqual(new Set(['decideBatch']));

    expect(await replayAll(bundle(), histories)).toEqual({ [ONE_ACTIVITY('shown-thompson-experiment.json')]: null });

    if (RECORD) {
      fs.mkdirSync(DIR, { recursive: true });
      fs.writeFileSync(path.join(DIR, histories[0].name), historyToJSON(history));
    }
  } finally {
    await t.teardown();
  }
});

it('when the stored shard histories are read, then each is a decisionShardWorkflow whose every Update input is valid for the current contract', () => {
  const histories = stored();
  expect(histories.map((h) => h.name)).toEqual(expect.arrayContaining([...TWO_ACTIVITY_HISTORIES, ...TWO_ACTIVITY_HISTORIES.map(ONE_ACTIVITY)]));
  for (const { name, history } of histories) {
    const types = new Set(localActivityTypes(history));
    expect({ name, oneActivity: types.has('decideBatch') }).toEqual({ name, oneActivity: name.startsWith('one-activity-') });
  }
  for (const { name, history } of histories) {
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect({ name, workflowType: started?.workflowType?.name }).toEqual({ name, workflowType: 'decisionShardWorkflow' });
    const inputs = updateInputs(history);
    expect(inputs.length).toBeGreaterThan(0);
    for (const input of inputs) expect({ name, issues: decideWorkflowInputSchema.safeParse(input).error?.issues ?? [] }).toEqual({ name, issues: [] });
  }
});

it('when every stored shard history is replayed against the current workflow bundle, then none is non-deterministic', async () => {
  const histories = stored();
  expect(histories.length).toBeGreaterThanOrEqual(10);
  expect(await replayAll(bundle(), histories)).toEqual(Object.fromEntries(histories.map((s) => [s.name, null])));
});

it('when the stored shard histories are replayed against a handler that calls its activities in another order, then each fails with DeterminismViolationError', async () => {
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'fixtures', 'changed-shard-workflow.ts'), logger: new DefaultLogger('WARN') });
  const histories = stored();
  expect(histories.length).toBeGreaterThanOrEqual(4);
  const outcome = await replayAll({ workflowBundle: { code } }, histories);
  for (const { name } of histories) expect({ name, isDeterminismViolation: outcome[name] instanceof DeterminismViolationError }).toEqual({ name, isDeterminismViolation: true });
});
