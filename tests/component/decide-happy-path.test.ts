/**
 * The decide flow end to end: admin writes and publishes a playbook, a surface asks for a decision, the decision is
 * stored and readable, and outcomes can be recorded once per action.
 */
import { loadConfig } from '../../config/config';
import { decisionShardOf, decisionShardWorkflowId } from '../../temporal/workflow-ids';
import { uniqueId, useTestApp } from '../support/harness';
import {
  buildFailuresPlaybook,
  buildFailuresSignal,
  decide,
  decideBody,
  expectEnvelope,
  fieldsOf,
  newTenant,
  publishPlaybook,
  putPolicy,
  requestPlaybook,
} from './fixtures';

jest.setTimeout(60000);

const app = useTestApp();

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('POST /v1/mmm/decide with a published mirror playbook', () => {
  it('when a service sends a matching signal, then one mirror action is shown, rendered for each of its surfaces, with context and receipt', async () => {
    const fx = newTenant(app);
    const pb = await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
    const signal = buildFailuresSignal(5);

    const res = await decide(app, fx.service, decideBody(fx.tenant, { repo_id: 'payments', branch: 'main', signal }));

    expect(res.status).toBe(200);
    expect(res.headers.get('idempotent-replayed')).toBe('false');
    const d = res.body;
    expect(d.decision_id).toMatch(/^dec_[0-9a-f-]{36}$/);
    expect(d.tenant_id).toBe(fx.tenant);
    expect(d.actor_id).toBe('alice');
    expect(d.created_at).toMatch(ISO);
    expect(d.outcome).toBe('shown');
    expect(d.suppressed).toEqual([]);
    expect(d.policy_snapshot_id).toBe(`pol_${fx.tenant}_v0`);
    expect(d.receipt_id).toMatch(/^rcpt_[0-9a-f-]{36}$/);
    // Every decision of one actor is an Update into the actor's shard workflow (ADR 0012).
    expect(d.workflow_id).toBe(decisionShardWorkflowId(fx.tenant, decisionShardOf('alice', loadConfig({}).DECISION_SHARDS)));
    expect(typeof d.latency_ms).toBe('number');
    expect(d.latency_ms).toBeGreaterThanOrEqual(0);
    expect(typeof d.latency_warning).toBe('boolean');
    expect(d.degraded_mode).toBe(false);
    expect(d.degraded_reasons).toEqual([]);

    expect(d.context).toEqual(
      expect.objectContaining({
        actor_type: 'human',
        actor_roles: [],
        surface: 'ide',
        repo_id: 'payments',
        branch: 'main',
        policy_snapshot_id: `pol_${fx.tenant}_v0`,
        quiet_hours: null,
        in_quiet_hours: false,
        recent_signals: [],
      }),
    );
    expect(d.context.signal).toEqual(signal);

    expect(d.actions).toHaveLength(1);
    const a = d.actions[0];
    expect(a.action_id).toMatch(/^act_[0-9a-f-]{36}$/);
    expect(a).toEqual(
      expect.objectContaining({
        type: 'mirror',
        playbook_id: pb.playbook_id,
        playbook_version: 1,
        category: 'build_health',
        surfaces: ['ide', 'pr', 'ci'],
        requires_consent: false,
        requires_dual_channel: false,
      }),
    );
    expect(a.payload.title).toBe('Build activity on main');
    expect(a.payload.body).toBe('Builds in payments failed 5 times today.');
    expect(a.payload.rendered.ide).toEqual({
      kind: 'card',
      title: 'Build activity on main',
      body: 'Builds in payments failed 5 times today.',
      severity: 'medium',
      tone: 'neutral',
      buttons: [
        { id: 'dismiss', label: 'Dismiss', records: { outcome: 'dismissed' } },
        { id: 'snooze', label: 'Snooze', records: { outcome: 'snoozed' } },
        { id: 'not_useful', label: 'Not useful', records: { outcome: 'dismissed', reason: 'not_useful' } },
      ],
    });
    expect(a.payload.rendered.pr.startsWith('**Build activity on main**\n\nBuilds in payments failed 5 times today.\n\n')).toBe(true);
    expect(a.payload.rendered.pr).toContain(`playbook \`${pb.playbook_id}\` v1`);
    expect(a.payload.rendered.pr).toContain(`<!-- mmm-action:${a.action_id} -->`);
    expect(a.payload.rendered.ci.startsWith('### Build activity on main\n\nBuilds in payments failed 5 times today.\n\n')).toBe(true);
    expect(a.payload.rendered.alert).toBeUndefined();
    expect(a.payload.rationale).toBeUndefined();
  });

  it('when the decision is read back by id, then it is exactly the decision that was returned, with its signed receipt', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
    const made = await decide(app, fx.service, decideBody(fx.tenant, { branch: 'main', signal: buildFailuresSignal(4) }));
    expect(made.status).toBe(200);

    const read = await app.request('GET', `/v1/mmm/decisions/${made.body.decision_id}`, { token: fx.service });

    expect(read.status).toBe(200);
    const { receipt, ...decision } = read.body;
    expect(decision).toEqual(made.body);
    const receiptRead = await app.request('GET', `/v1/mmm/receipts/${made.body.receipt_id}`, { token: fx.service });
    expect(receipt).toEqual(receiptRead.body);
    expect(receipt).toMatchObject({ receipt_id: made.body.receipt_id, decision_id: made.body.decision_id, kind: 'decision' });
  });

  it('when the signal does not satisfy the condition, then the outcome is no_match with no actions and no suppressions', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());

    const res = await decide(app, fx.service, decideBody(fx.tenant, { signal: buildFailuresSignal(2) }));

    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('no_match');
    expect(res.body.actions).toEqual([]);
    expect(res.body.suppressed).toEqual([]);
    expect(res.body.receipt_id).toMatch(/^rcpt_/);
  });

  it('when the signal kind differs from the trigger, then the outcome is no_match', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());

    const res = await decide(app, fx.service, decideBody(fx.tenant, { signal: buildFailuresSignal(9, { kind: 'deploy_failures' }) }));

    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('no_match');
  });

  it('when the request surface is not among the action surfaces, then nothing is shown and nothing is suppressed', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());

    const res = await decide(app, fx.service, decideBody(fx.tenant, { surface: 'alert', signal: buildFailuresSignal(9) }));

    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([]);
    expect(res.body.suppressed).toEqual([]);
    expect(res.body.outcome).toBe('no_match');
  });

  it('when a template placeholder has no value in the request, then it renders as "unknown" rather than template syntax', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());

    const res = await decide(app, fx.service, decideBody(fx.tenant, { signal: buildFailuresSignal(3) }));

    expect(res.status).toBe(200);
    expect(res.body.actions[0].payload.title).toBe('Build activity on unknown');
    expect(res.body.actions[0].payload.body).toBe('Builds in unknown failed 3 times today.');
  });

  it('when the branch name carries HTML, Markdown and a mention, then PR and CI Markdown escape it and the IDE card keeps it as plain text', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
    // One word: with spaces it would be free text, which the privacy filter drops before rendering (ADR 0013).
    const branch = '<img/src=x/onerror=alert(1)>**bold**@everyone';

    const res = await decide(app, fx.service, decideBody(fx.tenant, { branch, signal: buildFailuresSignal(3) }));

    expect(res.status).toBe(200);
    const rendered = res.body.actions[0].payload.rendered;
    expect(rendered.ide.title).toBe(`Build activity on ${branch}`);
    for (const md of [rendered.pr, rendered.ci]) {
      expect(md).not.toMatch(/(^|[^\\])<img/);
      expect(md).toContain('\\<img');
      expect(md).toContain('\\*\\*bold\\*\\*');
      expect(md).not.toContain('@everyone');
    }
  });

  it('when the actor has recent behavioural signals, then the decision context lists them', async () => {
    const fx = newTenant(app);
    const signalId = uniqueId('ubi-sig');
    await app.runtime.repos.sequelize.query(
      `INSERT INTO ubi_signals (signal_id, tenant_id, actor_id, actor_type, dimension, signal_type, severity, value, baseline, score, explanation, window_start, window_end)
       VALUES (:signalId, :tenant, 'alice', 'human', 'build_health', 'anomaly', 'high', 7, '{}', 3.5, '{}', now() - interval '1 hour', now())`,
      { replacements: { signalId, tenant: fx.tenant } },
    );

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.status).toBe(200);
    expect(res.body.context.recent_signals).toEqual([
      expect.objectContaining({ signal_id: signalId, dimension: 'build_health', signal_type: 'anomaly', severity: 'high', score: 3.5 }),
    ]);
    expect(res.body.context.recent_signals[0].created_at).toMatch(ISO);
  });
});

describe('suppression by type and policy', () => {
  it('when a matched playbook has a mentor action next to a mirror and the tenant has no LLM, then both are shown and the mentor carries its template rationale', async () => {
    const fx = newTenant(app);
    await publishPlaybook(
      app,
      fx.admin,
      requestPlaybook({}, {
        actions: [
          { type: 'mirror', title: 'Recent activity', body: 'Activity today.', cooldown_minutes: 0 },
          { type: 'mentor', title: 'A smaller change', body: 'Smaller pull requests get reviewed sooner.', cooldown_minutes: 0 },
        ],
      }),
    );

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('shown');
    expect(res.body.actions.map((a: { type: string }) => a.type).sort()).toEqual(['mentor', 'mirror']);
    const mentor = res.body.actions.find((a: { type: string }) => a.type === 'mentor');
    expect(mentor.payload.enrichment).toEqual({ status: 'template', reason: 'llm_disabled' });
    expect(mentor.payload.rationale.evidence_links.length).toBeGreaterThan(0);
    expect(res.body.suppressed).toEqual([]);
  });

  it('when the only matched action is a mentor and the tenant allows only mirrors, then the outcome is suppressed as policy_disallowed', async () => {
    const fx = newTenant(app);
    await putPolicy(app, fx, { allowed_action_types: ['mirror'] });
    await publishPlaybook(app, fx.admin, requestPlaybook({ type: 'mentor', title: 'A smaller change', body: 'Smaller pull requests get reviewed sooner.' }));

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('suppressed');
    expect(res.body.actions).toEqual([]);
    expect(res.body.suppressed.map((s: { reason: string }) => s.reason)).toEqual(['policy_disallowed']);
  });

  it("when the tenant policy no longer allows mirror actions, then the mirror is suppressed as policy_disallowed under the new policy snapshot", async () => {
    const fx = newTenant(app);
    const pb = await publishPlaybook(app, fx.admin, requestPlaybook());
    const policy = await putPolicy(app, fx, { allowed_action_types: ['mentor', 'multiplier'] });
    expect(policy.policy_snapshot_id).toBe(`pol_${fx.tenant}_v1`);

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('suppressed');
    expect(res.body.suppressed).toEqual([{ playbook_id: pb.playbook_id, playbook_version: 1, action_type: 'mirror', reason: 'policy_disallowed' }]);
    expect(res.body.policy_snapshot_id).toBe(`pol_${fx.tenant}_v1`);
    expect(res.body.context.policy_snapshot_id).toBe(`pol_${fx.tenant}_v1`);
  });

  it('when the playbook is limited to AI agents, then a human actor does not match it', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook({}, { actor_types: ['ai_agent'] }));

    const human = await decide(app, fx.service, decideBody(fx.tenant, { actor_type: 'human' }));
    const agent = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'agent-7', actor_type: 'ai_agent' }));

    expect(human.body.outcome).toBe('no_match');
    expect(agent.body.outcome).toBe('shown');
  });
});

describe('who may decide and read', () => {
  it('when the actor asks for their own decision without a service role, then it is decided and their roles are in the context', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());

    const res = await decide(app, fx.actor('alice', ['developer']), decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(res.status).toBe(200);
    expect(res.body.actor_id).toBe('alice');
    expect(res.body.outcome).toBe('shown');
    expect(res.body.context.actor_roles).toEqual(['developer']);
  });

  it('when one actor asks for a decision about another actor, then it is refused with 403 forbidden_actor', async () => {
    const fx = newTenant(app);

    const res = await decide(app, fx.actor('bob'), decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(res.status).toBe(403);
    expectEnvelope(res.body, 'forbidden_actor');
  });

  it('when an approver (not a service) asks for a decision about another actor, then it is refused with 403', async () => {
    const fx = newTenant(app);

    const res = await decide(app, fx.actor('carol', ['approver']), decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(res.status).toBe(403);
    expectEnvelope(res.body, 'forbidden_actor');
  });

  it("when another actor of the tenant reads someone's decision, then it is 403, while the actor themself may read it", async () => {
    const fx = newTenant(app);
    const made = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));
    expect(made.status).toBe(200);

    const own = await app.request('GET', `/v1/mmm/decisions/${made.body.decision_id}`, { token: fx.actor('alice') });
    const other = await app.request('GET', `/v1/mmm/decisions/${made.body.decision_id}`, { token: fx.actor('bob') });

    expect(own.status).toBe(200);
    expect(own.body.decision_id).toBe(made.body.decision_id);
    expect(other.status).toBe(403);
    expectEnvelope(other.body, 'forbidden_actor');
  });
});

describe('POST /v1/mmm/decisions/{decision_id}/outcomes', () => {
  async function shownDecision() {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const made = await decide(app, fx.service, decideBody(fx.tenant));
    expect(made.status).toBe(200);
    expect(made.body.actions).toHaveLength(1);
    return { fx, decisionId: made.body.decision_id as string, actionId: made.body.actions[0].action_id as string };
  }

  it('when an outcome is recorded for an action, then it is 201 with what was recorded', async () => {
    const { fx, decisionId, actionId } = await shownDecision();

    const res = await app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.service, body: { action_id: actionId, outcome: 'accepted' } });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ decision_id: decisionId, action_id: actionId, outcome: 'accepted', reason: null, recorded_at: expect.stringMatching(ISO) });
  });

  it('when the actor themself records the outcome, then it is accepted', async () => {
    const { fx, decisionId, actionId } = await shownDecision();

    const res = await app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.actor('alice'), body: { action_id: actionId, outcome: 'dismissed' } });

    expect(res.status).toBe(201);
    expect(res.body.outcome).toBe('dismissed');
  });

  it("when another actor of the tenant records an outcome on someone's decision, then it is 403 and nothing is recorded", async () => {
    const { fx, decisionId, actionId } = await shownDecision();

    const res = await app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.actor('bob'), body: { action_id: actionId, outcome: 'dismissed' } });
    const later = await app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.actor('alice'), body: { action_id: actionId, outcome: 'accepted' } });

    expect(res.status).toBe(403);
    expectEnvelope(res.body, 'forbidden_actor');
    expect(later.status).toBe(201);
  });

  it('when a second outcome is posted for the same action, then it is 409 outcome_already_recorded', async () => {
    const { fx, decisionId, actionId } = await shownDecision();
    const first = await app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.service, body: { action_id: actionId, outcome: 'accepted' } });
    expect(first.status).toBe(201);

    const second = await app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.service, body: { action_id: actionId, outcome: 'dismissed' } });

    expect(second.status).toBe(409);
    expectEnvelope(second.body, 'outcome_already_recorded');
  });

  // A race only shows when the requests interleave, so five actions are raced at once to make that near certain.
  it('when several outcomes for one action arrive at once, then exactly one is recorded and the rest get 409', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const decisions = await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5'].map((actor) => decide(app, fx.service, decideBody(fx.tenant, { actor_id: actor }))));
    const targets = decisions.map((d) => ({ decisionId: d.body.decision_id as string, actionId: d.body.actions[0].action_id as string }));

    const rounds = await Promise.all(
      targets.map(({ decisionId, actionId }) =>
        Promise.all(
          Array.from({ length: 10 }, () =>
            app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.service, body: { action_id: actionId, outcome: 'accepted' } }),
          ),
        ),
      ),
    );

    for (const results of rounds) expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    const [rows] = await app.runtime.repos.sequelize.query('SELECT decision_id, count(*)::int AS n FROM decision_outcomes WHERE tenant_id = :tenant GROUP BY decision_id', {
      replacements: { tenant: fx.tenant },
    });
    expect((rows as Array<{ n: number }>).map((r) => r.n)).toEqual([1, 1, 1, 1, 1]);
  });

  it('when the action_id is not an action of the decision, then it is 422 naming action_id', async () => {
    const { fx, decisionId } = await shownDecision();

    const res = await app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.service, body: { action_id: 'act_not-there', outcome: 'accepted' } });

    expect(res.status).toBe(422);
    expectEnvelope(res.body, 'validation_failed');
    expect(fieldsOf(res.body)).toEqual(['action_id']);
  });

  it('when the outcome is not one of accepted, dismissed, ignored, snoozed, then it is 422 naming outcome', async () => {
    const { fx, decisionId, actionId } = await shownDecision();

    const res = await app.request('POST', `/v1/mmm/decisions/${decisionId}/outcomes`, { token: fx.service, body: { action_id: actionId, outcome: 'loved' } });

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual(['outcome']);
  });

  it('when the decision does not exist in the tenant, then it is 404', async () => {
    const fx = newTenant(app);

    const res = await app.request('POST', '/v1/mmm/decisions/dec_missing/outcomes', { token: fx.service, body: { action_id: 'act_x', outcome: 'accepted' } });

    expect(res.status).toBe(404);
    expectEnvelope(res.body, 'decision_not_found');
  });
});
