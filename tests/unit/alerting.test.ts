import { planActions } from '../../domain/action-planning';
import { alertsToDeliver } from '../../domain/alerting';
import type { Surface } from '../../domain/model/common';
import { playbookInputSchema } from '../../domain/model/playbook';
import { tenantPolicyInputSchema } from '../../domain/model/policy';
import { preferencesInputSchema } from '../../domain/model/preferences';
import { alertPayloadSchema } from '../../workflows/alerts/contract';

/** Two playbooks: one whose action also shows on the alert surface, one whose action shows only in the IDE. */
function candidates(surface: Surface) {
  let n = 0;
  const playbook = (id: string, surfaces: Surface[], priority: number) => {
    const definition = playbookInputSchema.parse({
      name: id,
      category: 'builds',
      triggers: [{ kind: 'request' }],
      actions: [{ type: 'mirror', title: `${id} on {{branch}}`, body: 'Builds on {{branch}} failed.', surfaces, priority }],
    });
    return { playbook_id: id, version: 2, definition, trigger: definition.triggers[0] };
  };
  return planActions({
    request: { actor_id: 'dev-1', actor_type: 'human', surface, branch: 'main', signal: undefined },
    matched: [playbook('pb-alert', ['ide', 'alert'], 10), playbook('pb-ide', ['ide'], 5)],
    policy: tenantPolicyInputSchema.parse({}),
    preferences: preferencesInputSchema.parse({}),
    now: new Date('2024-01-15T12:00:00Z'),
    newActionId: () => `act-${++n}`,
    supportedTypes: ['mirror'],
  }).candidates;
}

describe('alertsToDeliver', () => {
  it('when an alert-surface decision shows actions, then each shown one becomes an alert with its rendered title, text and severity, keyed by its action id', () => {
    const planned = candidates('alert');
    const alerts = alertsToDeliver({ tenant_id: 't1', decision_id: 'dec-1', surface: 'alert', candidates: planned, shown_action_ids: ['act-1'] });
    expect(alerts).toEqual([
      {
        alert_id: 'act-1',
        tenant_id: 't1',
        decision_id: 'dec-1',
        action_type: 'mirror',
        playbook_id: 'pb-alert',
        playbook_version: 2,
        title: 'pb-alert on main',
        body: 'Builds on main failed.',
        severity: 'info',
      },
    ]);
    expect(alertPayloadSchema.strict().safeParse(alerts[0]).success).toBe(true);
  });

  it('when an action was planned but not shown (fatigue), then it is not delivered', () => {
    const planned = candidates('alert');
    expect(alertsToDeliver({ tenant_id: 't1', decision_id: 'dec-1', surface: 'alert', candidates: planned, shown_action_ids: [] })).toEqual([]);
  });

  it('when the decision is on another surface, then nothing is delivered even if an action also renders an alert', () => {
    const planned = candidates('ide');
    expect(planned.some((c) => c.action.payload.rendered.alert)).toBe(true);
    const shown = planned.map((c) => c.action.action_id);
    expect(alertsToDeliver({ tenant_id: 't1', decision_id: 'dec-1', surface: 'ide', candidates: planned, shown_action_ids: shown })).toEqual([]);
  });
});
