import { decisionOutcome, planActions, type PlanInput } from '../../domain/action-planning';
import { playbookInputSchema } from '../../domain/model/playbook';
import { tenantPolicyInputSchema, type TenantPolicyInput } from '../../domain/model/policy';
import { preferencesInputSchema, type PreferencesInput } from '../../domain/model/preferences';
import type { MatchedPlaybook } from '../../domain/playbook-matching';
import type { Action, Suppressed } from '../../domain/model/decision';
import type { ActionType } from '../../domain/model/common';

const NOW = new Date('2024-01-15T12:00:00Z');

function matched(id: string, definition: Record<string, unknown>, version = 1): MatchedPlaybook {
  const parsed = playbookInputSchema.parse({
    name: `Playbook ${id}`,
    category: 'flow',
    triggers: [{ kind: 'request' }],
    actions: [{ type: 'mirror', title: 'Activity on {{branch}}', body: '{{repo_id}} saw activity.' }],
    ...definition,
  });
  return { playbook_id: id, version, definition: parsed, trigger: parsed.triggers[0] };
}

function counter(prefix = 'act'): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

function plan(over: {
  matched: MatchedPlaybook[];
  policy?: Partial<TenantPolicyInput>;
  preferences?: Partial<PreferencesInput>;
  request?: Partial<PlanInput['request']>;
  supportedTypes?: PlanInput['supportedTypes'];
  now?: Date;
}) {
  return planActions({
    request: { actor_id: 'dev-1', actor_type: 'human', surface: 'ide', repo_id: 'repo-1', branch: 'main', ...over.request },
    matched: over.matched,
    policy: tenantPolicyInputSchema.parse(over.policy ?? {}),
    preferences: preferencesInputSchema.parse(over.preferences ?? {}),
    now: over.now ?? NOW,
    newActionId: counter(),
    supportedTypes: over.supportedTypes ?? ['mirror'],
  });
}

describe('planActions', () => {
  it('when one mirror playbook matches and nothing blocks it, then one full candidate is planned', () => {
    const result = plan({ matched: [matched('pb-a', { category: 'builds' }, 3)] });
    expect(result.suppressed).toEqual([]);
    expect(result.in_quiet_hours).toBe(false);
    expect(result.candidates).toHaveLength(1);
    const [c] = result.candidates;
    expect(c.cooldown_key).toBe('pb-a');
    expect(c.cooldown_ms).toBe(30 * 60_000);
    expect(c.action).toMatchObject({
      action_id: 'act-1',
      type: 'mirror',
      playbook_id: 'pb-a',
      playbook_version: 3,
      category: 'builds',
      priority: 50,
      surfaces: ['ide', 'ci', 'pr', 'alert'],
      requires_consent: false,
      requires_dual_channel: false,
    });
    expect(c.action.payload.title).toBe('Activity on main');
    expect(c.action.payload.body).toBe('repo-1 saw activity.');
    expect(Object.keys(c.action.payload.rendered).sort()).toEqual(['alert', 'ci', 'ide', 'pr']);
    expect(c.action.payload.rendered.pr).toContain('<!-- mmm-action:act-1 -->');
  });

  it('when the request has no signal, then the rendering severity is info; with one, the signal severity', () => {
    const pb = matched('pb-a', {});
    expect(plan({ matched: [pb] }).candidates[0].action.payload.rendered.ide?.severity).toBe('info');
    const withSignal = plan({
      matched: [pb],
      request: {
        signal: { signal_id: 's1', source: 'ubi', kind: 'k', severity: 'high', occurred_at: '2024-01-15T11:00:00Z', payload: {} },
      },
    });
    expect(withSignal.candidates[0].action.payload.rendered.alert?.severity).toBe('high');
  });

  it('when an action is meant for other surfaces, then it is skipped without a suppression', () => {
    const pb = matched('pb-a', {
      actions: [
        { type: 'mirror', title: 'PR only', body: 'b', surfaces: ['pr'] },
        { type: 'mirror', title: 'IDE too', body: 'b', surfaces: ['ide', 'pr'] },
      ],
    });
    const result = plan({ matched: [pb], request: { surface: 'ide' } });
    expect(result.suppressed).toEqual([]);
    expect(result.candidates.map((c) => c.action.payload.title)).toEqual(['IDE too']);
    expect(result.candidates[0].action.surfaces).toEqual(['ide', 'pr']);
  });

  it('when several checks fail, then the first in the fixed order is the reason', () => {
    const pb = matched('pb-m', {
      category: 'testing',
      actions: [{ type: 'mentor', title: 'Flaky tests', body: 'Notes on {{branch}}' }],
    });
    type Scenario = { policy: Partial<TenantPolicyInput>; preferences: Partial<PreferencesInput>; supportedTypes: ActionType[] };
    const allBlocked: Scenario = {
      policy: { allowed_action_types: ['mirror'], quiet_hours: { start: '00:00', end: '23:59', timezone: 'UTC' } },
      preferences: {
        opt_out_categories: ['testing'],
        snooze_until: '2024-01-15T13:00:00Z',
        preferred_surfaces: ['pr'],
      },
      supportedTypes: ['mirror'],
    };
    const reason = (o: Scenario) => {
      const result = plan({ matched: [pb], ...o });
      expect(result.candidates).toEqual([]);
      return result.suppressed.map((s) => s.reason);
    };

    expect(reason(allBlocked)).toEqual(['policy_disallowed']);
    const step1: Scenario = { ...allBlocked, policy: { ...allBlocked.policy, allowed_action_types: ['mirror', 'mentor'] } };
    expect(reason(step1)).toEqual(['not_supported']);
    const step2: Scenario = { ...step1, supportedTypes: ['mirror', 'mentor'] };
    expect(reason(step2)).toEqual(['opted_out']);
    const step3 = { ...step2, preferences: { ...step2.preferences, opt_out_categories: ['other'] } };
    expect(reason(step3)).toEqual(['snoozed']);
    const step4 = { ...step3, preferences: { ...step3.preferences, snooze_until: null } };
    expect(reason(step4)).toEqual(['quiet_hours']);
    const step5 = { ...step4, policy: { ...step4.policy, quiet_hours: null } };
    expect(reason(step5)).toEqual(['surface_not_preferred']);

    const open = plan({ matched: [pb], ...step5, preferences: { ...step5.preferences, preferred_surfaces: ['ide'] } });
    expect(open.suppressed).toEqual([]);
    expect(open.candidates.map((c) => c.action.type)).toEqual(['mentor']);
  });

  it('when an action is suppressed, then the entry names playbook, version, action type and reason', () => {
    const result = plan({ matched: [matched('pb-x', {}, 5)], policy: { allowed_action_types: ['mentor'] } });
    expect(result.suppressed).toEqual<Suppressed[]>([
      { playbook_id: 'pb-x', playbook_version: 5, action_type: 'mirror', reason: 'policy_disallowed' },
    ]);
  });

  it('when the snooze has already ended, then it does not suppress', () => {
    const result = plan({ matched: [matched('pb-a', {})], preferences: { snooze_until: '2024-01-15T12:00:00Z' } });
    expect(result.suppressed).toEqual([]);
    expect(result.candidates).toHaveLength(1);
  });

  it("when the actor's time zone puts them in quiet hours, then the plan says so and suppresses", () => {
    const quiet_hours = { start: '22:00', end: '07:00', timezone: 'UTC' };
    // 20:00 UTC is outside the tenant's window but 01:30 in Asia/Kolkata, inside the actor's.
    const now = new Date('2024-01-15T20:00:00Z');
    const tenantOnly = plan({ matched: [matched('pb-a', {})], policy: { quiet_hours }, now });
    expect(tenantOnly.in_quiet_hours).toBe(false);
    expect(tenantOnly.candidates).toHaveLength(1);
    const actorZone = plan({ matched: [matched('pb-a', {})], policy: { quiet_hours }, preferences: { timezone: 'Asia/Kolkata' }, now });
    expect(actorZone.in_quiet_hours).toBe(true);
    expect(actorZone.suppressed.map((s) => s.reason)).toEqual(['quiet_hours']);
  });

  it('when preferred surfaces are set, then candidate surfaces are narrowed to them', () => {
    const result = plan({ matched: [matched('pb-a', {})], request: { surface: 'pr' }, preferences: { preferred_surfaces: ['pr', 'ide'] } });
    expect(result.candidates[0].action.surfaces).toEqual(['ide', 'pr']);
    expect(Object.keys(result.candidates[0].action.payload.rendered).sort()).toEqual(['ide', 'pr']);
  });

  it('when candidates are sorted, then priority desc, then playbook id asc, then action order decide, and ids follow', () => {
    const pbB = matched('pb-b', {
      actions: [
        { type: 'mirror', title: 'b-first', body: 'x', priority: 50 },
        { type: 'mirror', title: 'b-second', body: 'x', priority: 50 },
        { type: 'mirror', title: 'b-top', body: 'x', priority: 90 },
      ],
    });
    const pbA = matched('pb-a', { actions: [{ type: 'mirror', title: 'a-mid', body: 'x', priority: 50 }] });
    const pbC = matched('pb-c', { actions: [{ type: 'mirror', title: 'c-low', body: 'x', priority: 10 }] });
    const result = plan({ matched: [pbC, pbB, pbA] });
    expect(result.candidates.map((c) => c.action.payload.title)).toEqual(['b-top', 'a-mid', 'b-first', 'b-second', 'c-low']);
    expect(result.candidates.map((c) => c.action.action_id)).toEqual(['act-1', 'act-2', 'act-3', 'act-4', 'act-5']);
  });

  it('when the action sets its own cool-down, then it wins over the policy default, including zero', () => {
    const pb = matched('pb-a', {
      actions: [
        { type: 'mirror', title: 'own', body: 'x', cooldown_minutes: 5, priority: 60 },
        { type: 'mirror', title: 'none', body: 'x', cooldown_minutes: 0, priority: 55 },
        { type: 'mirror', title: 'default', body: 'x' },
      ],
    });
    const result = plan({ matched: [pb], policy: { cooldown_minutes: 45 } });
    expect(result.candidates.map((c) => [c.action.payload.title, c.cooldown_ms])).toEqual([
      ['own', 300_000],
      ['none', 0],
      ['default', 2_700_000],
    ]);
  });

  it('when a multiplier is planned, then consent and dual-channel flags come from the definition', () => {
    const pb = matched('pb-mx', {
      actions: [{ type: 'multiplier', title: 'Re-run tests', body: 'x', requires_consent: true, requires_dual_channel: true }],
    });
    const [c] = plan({ matched: [pb], supportedTypes: ['mirror', 'multiplier'] }).candidates;
    expect(c.action.requires_consent).toBe(true);
    expect(c.action.requires_dual_channel).toBe(true);
    expect(c.action.payload.rendered.ide?.tone).toBe('action');
  });

  it('when nothing matched, then the plan is empty', () => {
    expect(plan({ matched: [] })).toEqual({ candidates: [], suppressed: [], in_quiet_hours: false });
  });
});

describe('decisionOutcome', () => {
  const action = { action_id: 'a' } as Action;
  const suppressed: Suppressed = { playbook_id: 'p', playbook_version: 1, action_type: 'mirror', reason: 'snoozed' };

  it('when there is at least one action, then it is shown even with suppressions', () => {
    expect(decisionOutcome([action], [suppressed])).toBe('shown');
  });

  it('when there are only suppressions, then it is suppressed', () => {
    expect(decisionOutcome([], [suppressed])).toBe('suppressed');
  });

  it('when there is neither, then it is no_match', () => {
    expect(decisionOutcome([], [])).toBe('no_match');
  });
});
