import { conditionSchema, playbookActionSchema, playbookInputSchema, triggerSchema } from '../../domain/model/playbook';
import { DEFAULT_TENANT_POLICY, policySnapshotId, quietHoursSchema, tenantPolicyInputSchema } from '../../domain/model/policy';
import { DEFAULT_PREFERENCES, preferencesInputSchema, snoozeInputSchema } from '../../domain/model/preferences';
import { decideRequestSchema } from '../../domain/model/decision';
import { signalSchema } from '../../domain/model/signal';
import { idSchema } from '../../domain/model/common';
import type { z } from 'zod';

/** The issues of a failed parse as "path: message" pairs, so a test can name the offending field. */
function issues(result: z.ZodSafeParseResult<unknown>): Array<{ path: string; message: string }> {
  if (result.success) return [];
  return result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}
const paths = (result: z.ZodSafeParseResult<unknown>) => issues(result).map((i) => i.path);

const validPlaybook = {
  name: 'Build failures',
  category: 'builds',
  triggers: [{ kind: 'build_failed', source: 'ubi', min_severity: 'medium' }],
  actions: [{ type: 'mirror', title: 'Builds on {{branch}}', body: '{{signal.payload.failures}} failures in the last hour.' }],
};

describe('playbook schemas', () => {
  it('when a playbook is valid, then defaults fill priority, consent flags and conditions', () => {
    const parsed = playbookInputSchema.parse(validPlaybook);
    expect(parsed.conditions).toEqual([]);
    expect(parsed.actions[0]).toEqual({
      type: 'mirror',
      title: 'Builds on {{branch}}',
      body: '{{signal.payload.failures}} failures in the last hour.',
      priority: 50,
      requires_consent: false,
      requires_dual_channel: false,
    });
  });

  it('when a mirror action says "you should", then it is refused and the body path is named', () => {
    const result = playbookInputSchema.safeParse({
      ...validPlaybook,
      actions: [{ type: 'mirror', title: 'Builds', body: 'You should fix the build.' }],
    });
    expect(result.success).toBe(false);
    const found = issues(result);
    expect(found.map((i) => i.path)).toEqual(['actions.0.body']);
    expect(found[0].message).toBe('a mirror reflects and never prescribes; remove: You should, should, fix');
  });

  it('when a mentor action uses the same words, then it is accepted', () => {
    expect(playbookActionSchema.safeParse({ type: 'mentor', title: 'Builds', body: 'You should fix the build.' }).success).toBe(true);
  });

  it('when a template uses an unknown placeholder, then the field is named', () => {
    const result = playbookActionSchema.safeParse({ type: 'mirror', title: 'Hi {{tenant_secret}}', body: 'ok' });
    expect(paths(result)).toEqual(['title']);
  });

  it('when a multiplier does not require consent, then it is refused; dual-channel is multiplier-only', () => {
    expect(paths(playbookActionSchema.safeParse({ type: 'multiplier', title: 't', body: 'b' }))).toEqual(['requires_consent']);
    expect(paths(playbookActionSchema.safeParse({ type: 'mentor', title: 't', body: 'b', requires_dual_channel: true }))).toEqual([
      'requires_dual_channel',
    ]);
  });

  it('when `in` is given a single value, then it is refused at value', () => {
    expect(paths(conditionSchema.safeParse({ field: 'branch', op: 'in', value: 'main' }))).toEqual(['value']);
    expect(conditionSchema.safeParse({ field: 'branch', op: 'in', value: ['main', 'develop'] }).success).toBe(true);
  });

  it('when eq is given an array or gte a string, then it is refused at value', () => {
    expect(paths(conditionSchema.safeParse({ field: 'branch', op: 'eq', value: ['main'] }))).toEqual(['value']);
    expect(paths(conditionSchema.safeParse({ field: 'signal.payload.n', op: 'gte', value: '3' }))).toEqual(['value']);
  });

  it('when `matches` is given a nested-quantifier or invalid regex, then it is refused', () => {
    expect(paths(conditionSchema.safeParse({ field: 'branch', op: 'matches', value: '(a+)+$' }))).toEqual(['value']);
    expect(paths(conditionSchema.safeParse({ field: 'branch', op: 'matches', value: '([a-z]*)*' }))).toEqual(['value']);
    expect(paths(conditionSchema.safeParse({ field: 'branch', op: 'matches', value: '[unclosed' }))).toEqual(['value']);
    expect(conditionSchema.safeParse({ field: 'branch', op: 'matches', value: '^feature/[a-z-]+$' }).success).toBe(true);
  });

  it('when a condition names an unknown field, then it is refused at field', () => {
    expect(paths(conditionSchema.safeParse({ field: 'tenant_id', op: 'eq', value: 't' }))).toEqual(['field']);
    expect(paths(conditionSchema.safeParse({ field: 'signal.payload.a-b', op: 'eq', value: 1 }))).toEqual(['field']);
  });

  it('when a trigger carries an unknown key or a bad severity, then it is refused', () => {
    expect(triggerSchema.safeParse({ kind: 'build_failed', extra: 1 }).success).toBe(false);
    expect(paths(triggerSchema.safeParse({ kind: 'build_failed', min_severity: 'severe' }))).toEqual(['min_severity']);
  });
});

describe('policy and preferences schemas', () => {
  it('when the policy is empty, then the documented defaults apply', () => {
    expect(DEFAULT_TENANT_POLICY).toEqual({
      max_nudges_per_window: 3,
      window_minutes: 60,
      quiet_hours: null,
      cooldown_minutes: 30,
      safety_critical: false,
      approval_timeout_minutes: 60,
      llm_enabled: false,
      allowed_action_types: ['mirror', 'mentor', 'multiplier'],
      retention_days: 90,
    });
    expect(policySnapshotId('t1', 4)).toBe('pol_t1_v4');
  });

  it('when quiet hours name a bad time zone or a bad time, then the field is named', () => {
    expect(paths(quietHoursSchema.safeParse({ start: '22:00', end: '07:00', timezone: 'Mars/Olympus_Mons' }))).toEqual(['timezone']);
    expect(paths(quietHoursSchema.safeParse({ start: '24:00', end: '07:00', timezone: 'UTC' }))).toEqual(['start']);
    expect(quietHoursSchema.safeParse({ start: '22:00', end: '07:00', timezone: 'Asia/Kolkata' }).success).toBe(true);
  });

  it('when a policy has an unknown field, then it is refused', () => {
    expect(tenantPolicyInputSchema.safeParse({ max_nudges: 3 }).success).toBe(false);
  });

  it('when preferences name a bad time zone, then it is refused; defaults are empty', () => {
    expect(paths(preferencesInputSchema.safeParse({ timezone: 'Nowhere/Land' }))).toEqual(['timezone']);
    expect(DEFAULT_PREFERENCES).toEqual({ opt_out_categories: [], snooze_until: null, preferred_surfaces: [], timezone: null });
  });

  it('when a snooze gives both, or neither, of duration_minutes and until, then it is refused', () => {
    expect(paths(snoozeInputSchema.safeParse({ duration_minutes: 30, until: '2024-01-15T12:00:00Z' }))).toEqual(['duration_minutes']);
    expect(paths(snoozeInputSchema.safeParse({}))).toEqual(['duration_minutes']);
    expect(snoozeInputSchema.safeParse({ duration_minutes: 30 }).success).toBe(true);
    expect(snoozeInputSchema.safeParse({ until: '2024-01-15T12:00:00+01:00' }).success).toBe(true);
  });
});

describe('decide request and signal schemas', () => {
  const request = { tenant_id: 't1', actor_id: 'dev-1', actor_type: 'human', surface: 'ide' };

  it('when a decide request is minimal, then it parses', () => {
    expect(decideRequestSchema.parse(request)).toEqual(request);
  });

  it('when a decide request has an unknown surface or extra field, then the field is named', () => {
    expect(paths(decideRequestSchema.safeParse({ ...request, surface: 'email' }))).toEqual(['surface']);
    expect(decideRequestSchema.safeParse({ ...request, extra: true }).success).toBe(false);
  });

  it('when a signal has an unknown severity or a nested payload, then the field is named', () => {
    const signal = { signal_id: 's1', source: 'ubi', kind: 'build_failed', severity: 'medium', occurred_at: '2024-01-15T10:00:00Z' };
    expect(signalSchema.parse(signal).payload).toEqual({});
    expect(paths(signalSchema.safeParse({ ...signal, severity: 'urgent' }))).toEqual(['severity']);
    expect(paths(signalSchema.safeParse({ ...signal, payload: { nested: { a: 1 } } }))).toEqual(['payload.nested']);
  });

  it('when an id has characters outside the safe alphabet, then it is refused', () => {
    expect(idSchema.safeParse('tenant-1:a.b@c_d').success).toBe(true);
    expect(idSchema.safeParse('../etc').success).toBe(false);
    expect(idSchema.safeParse('a b').success).toBe(false);
  });
});
