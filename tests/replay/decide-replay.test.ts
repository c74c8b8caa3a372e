/**
 * Replay keeps decideWorkflow deterministic: every history in tests/replay/histories must replay against the current
 * workflow bundle. A change that alters the sequence of commands (activities, markers, search-attribute upserts) fails
 * here instead of failing decisions that are in flight during a deploy.
 *
 * Recording: the first test runs one decision of each kind on the suite's dev server and always replays the fresh
 * histories. To (re)write the stored ones, after a deliberate, versioned change to the workflow:
 *
 *   RECORD_HISTORIES=1 npx jest tests/replay/decide-replay.test.ts
 *
 * That rewrites every file; when adding a kind, keep only the new file (git checkout the others): the stored ones are
 * the histories of older code, which is what in-flight decisions replay against.
 *
 * Files are Temporal's JSON history format (the SDK's historyToJSON / historyFromJSON). Recorded inputs
 * are checked against the current contract (workflows/decision/contract.ts), so a history whose input the API could
 * no longer send is noticed rather than silently replayed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { decideWorkflowInputSchema, type DecideRequest } from '../../workflows/decision/contract';
import { playbookInputSchema, type PublishedPlaybook } from '../../domain/model/playbook';
import { mirrorPlaybook, recentSignal } from '../support/fakes';
import { requireEnv, uniqueId } from '../support/harness';
import { quietHoursAround, quietSdkLogs, startDecisionTestEnv } from '../workflows/decision-test-env';

type History = temporal.api.history.v1.IHistory;

const HISTORIES_DIR = path.join(__dirname, 'histories');
const RECORD = process.env.RECORD_HISTORIES === '1';

function bundleOptions(): ReplayWorkerOptions {
  return { workflowBundle: { codePath: requireEnv('WORKFLOW_BUNDLE_PATH') } };
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8'));
}

function loadStoredHistories(): Array<{ name: string; history: History }> {
  const files = fs.existsSync(HISTORIES_DIR) ? fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort() : [];
  return files.map((f) => ({ name: f, history: historyFromJSON(readJson(f)) }));
}

/** Replays each history and returns name → its replay error (or null), so a failure names every broken history. */
async function replayAll(options: ReplayWorkerOptions, histories: Array<{ name: string; history: History }>) {
  const outcome: Record<string, unknown> = {};
  for await (const result of Worker.runReplayHistories(options, histories.map(({ name, history }) => ({ workflowId: name, history })))) {
    outcome[result.workflowId] = result.error ?? null;
  }
  return outcome;
}

function mentorMultiplierPlaybook(): PublishedPlaybook {
  return {
    playbook_id: 'pb-mentor-multiplier',
    version: 1,
    definition: playbookInputSchema.parse({
      name: 'Mentor and multiplier',
      category: 'ci_hygiene',
      triggers: [{ kind: 'request' }],
      actions: [
        { type: 'mentor', title: 'Smaller changes on {{branch}}', body: 'Smaller pull requests get reviewed sooner.', cooldown_minutes: 0 },
        { type: 'multiplier', title: 'Re-run CI', body: 'Re-run the suite of {{repo_id}}.', requires_consent: true, requires_dual_channel: true, cooldown_minutes: 0 },
      ],
    }),
  };
}

beforeAll(() => {
  // ERROR: the deliberate non-determinism below makes core warn once per history, which is the expected result.
  quietSdkLogs('ERROR');
});

describe('recorded decide histories', () => {
  it('when one decision of each kind runs on the server, then its fresh history replays cleanly (and is stored with RECORD_HISTORIES=1)', async () => {
    const t = await startDecisionTestEnv();
    try {
      const request = (tenant: string): DecideRequest => ({
        tenant_id: tenant,
        actor_id: 'actor-1',
        actor_type: 'human',
        surface: 'ide',
        repo_id: 'repo-1',
        branch: 'main',
      });
      const [shown, quiet, unavailable, noMatch] = [uniqueId('replay'), uniqueId('replay'), uniqueId('replay'), uniqueId('replay')];
      const mentorMultiplier = uniqueId('replay');
      const alert = uniqueId('replay');
      for (const tenant of [shown, quiet, unavailable, alert]) t.repos.publishPlaybook(tenant, mirrorPlaybook('pb-mirror'));
      t.repos.publishPlaybook(mentorMultiplier, mentorMultiplierPlaybook());
      t.repos.setPolicy(mentorMultiplier, { llm_enabled: true });
      t.repos.addSignals(shown, 'actor-1', [recentSignal('sig-1')]);
      t.repos.setPolicy(quiet, { quiet_hours: quietHoursAround() });

      const runs = [
        { name: 'shown', handle: await t.startDecision(request(shown)), outcome: 'shown' },
        { name: 'suppressed-quiet-hours', handle: await t.startDecision(request(quiet)), outcome: 'suppressed' },
        {
          name: 'suppressed-fatigue-unavailable',
          handle: await t.startDecision(request(unavailable), { taskQueue: t.unavailableFatigueTaskQueue }),
          outcome: 'suppressed',
        },
        { name: 'no-match', handle: await t.startDecision({ ...request(noMatch), surface: 'ci' }), outcome: 'no_match' },
        // Since the mentor-multiplier-v1 patch: a mentor and a multiplier action, which start their follow-up workflows.
        { name: 'shown-mentor-multiplier', handle: await t.startDecision(request(mentorMultiplier)), outcome: 'shown' },
        // Since the alert-delivery-v1 patch: an alert-surface decision that shows an action starts its alert delivery.
        { name: 'shown-alert', handle: await t.startDecision({ ...request(alert), surface: 'alert' }), outcome: 'shown' },
      ];
      const histories: Array<{ name: string; history: History }> = [];
      for (const run of runs) {
        expect((await run.handle.result()).outcome).toBe(run.outcome);
        histories.push({ name: `${run.name}.json`, history: await run.handle.fetchHistory() });
      }

      expect(await replayAll(bundleOptions(), histories)).toEqual(Object.fromEntries(histories.map((h) => [h.name, null])));

      if (RECORD) {
        fs.mkdirSync(HISTORIES_DIR, { recursive: true });
        for (const { name, history } of histories)
          fs.writeFileSync(path.join(HISTORIES_DIR, name), historyToJSON(history));
      }
    } finally {
      await t.teardown();
    }
  });

  it('when the stored histories are read, then there is one per kind of decision and each input is valid for the current contract', () => {
    const stored = loadStoredHistories();
    expect(stored.map((s) => s.name)).toEqual(
      expect.arrayContaining(['no-match.json', 'shown.json', 'suppressed-fatigue-unavailable.json', 'suppressed-quiet-hours.json', 'shown-mentor-multiplier.json', 'shown-alert.json',
        // Recorded by the code before alert-delivery-v1 (commit c7df416): an alert-surface decision whose commit already
        // returned its shown action ids (it has a multiplier action), so only the patch keeps its replay from adding the
        // alert delivery start.
        'shown-alert-mentor-multiplier-before-alert-delivery.json']),
    );
    for (const { name, history } of stored) {
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      expect({ name, workflowType: started?.workflowType?.name }).toEqual({ name, workflowType: 'decideWorkflow' });
      const [input] = (started?.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p));
      const parsed = decideWorkflowInputSchema.safeParse(input);
      expect({ name, issues: parsed.error?.issues ?? [] }).toEqual({ name, issues: [] });
    }
  });

  it('when the stored alert-surface history is read, then it holds the alert-delivery-v1 marker and the start of alertDeliveryWorkflow', () => {
    const stored = loadStoredHistories().find((s) => s.name === 'shown-alert.json');
    const events = stored?.history.events ?? [];
    const childTypes = events.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name).filter(Boolean);
    expect(childTypes).toEqual(['alertDeliveryWorkflow']);
    const patches = events
      .map((e) => e.markerRecordedEventAttributes)
      .filter((m) => m?.markerName === 'core_patch')
      .map((m) => defaultPayloadConverter.fromPayload(m?.details?.['patch-data']?.payloads?.[0] ?? {}));
    expect(patches).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'alert-delivery-v1' })]));
  });

  it('when every stored history is replayed against the current workflow bundle, then none is non-deterministic', async () => {
    const stored = loadStoredHistories();
    expect(stored.length).toBeGreaterThanOrEqual(4);
    expect(await replayAll(bundleOptions(), stored)).toEqual(Object.fromEntries(stored.map((s) => [s.name, null])));
  });

  it('when the stored histories are replayed against a decideWorkflow that calls its activities in another order, then each fails with DeterminismViolationError', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'fixtures', 'changed-workflow.ts'),
      logger: new DefaultLogger('WARN'),
    });
    const stored = loadStoredHistories();
    expect(stored.length).toBeGreaterThanOrEqual(4);
    const outcome = await replayAll({ workflowBundle: { code } }, stored);
    for (const { name } of stored) {
      expect({ name, isDeterminismViolation: outcome[name] instanceof DeterminismViolationError }).toEqual({ name, isDeterminismViolation: true });
    }
  });
});
