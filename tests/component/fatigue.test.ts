/**
 * Fatigue control through the real Redis store: at most `max_nudges_per_window` nudges per actor, even when the
 * decisions race, and a per-playbook cool-down.
 */
import { useTestApp } from '../support/harness';
import { decide, decideBody, newTenant, publishPlaybook, putPolicy, requestPlaybook } from './fixtures';

jest.setTimeout(60000);

const app = useTestApp();

type Decision = { outcome: string; actions: unknown[]; suppressed: Array<{ reason: string; playbook_id: string }> };

describe('max nudges per window', () => {
  it('when 20 decisions for one actor race under a limit of 3, then exactly 3 show an action and 17 are suppressed as fatigue_limit', async () => {
    const fx = newTenant(app);
    await putPolicy(app, fx, { max_nudges_per_window: 3, window_minutes: 60 });
    const pb = await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));

    const results = await Promise.all(Array.from({ length: 20 }, () => decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }))));

    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const decisions = results.map((r) => r.body as Decision);
    const shown = decisions.filter((d) => d.actions.length > 0);
    const limited = decisions.filter((d) => d.actions.length === 0);
    expect(shown).toHaveLength(3);
    for (const d of shown) expect(d.outcome).toBe('shown');
    expect(limited).toHaveLength(17);
    for (const d of limited) {
      expect(d.outcome).toBe('suppressed');
      expect(d.suppressed).toEqual([expect.objectContaining({ playbook_id: pb.playbook_id, reason: 'fatigue_limit' })]);
    }
    // Each decision id is distinct: 20 decisions were made, not 3 replayed.
    expect(new Set(results.map((r) => r.body.decision_id)).size).toBe(20);
  });

  it("when one actor has used up their nudges, then another actor of the same tenant is still shown theirs", async () => {
    const fx = newTenant(app);
    await putPolicy(app, fx, { max_nudges_per_window: 3 });
    await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));
    const first = await Promise.all(Array.from({ length: 5 }, () => decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }))));
    expect(first.filter((r) => r.body.outcome === 'shown')).toHaveLength(3);

    const bob = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'bob' }));
    const aliceAgain = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(bob.body.outcome).toBe('shown');
    expect(bob.body.actions).toHaveLength(1);
    expect(aliceAgain.body.outcome).toBe('suppressed');
    expect(aliceAgain.body.suppressed.map((s: { reason: string }) => s.reason)).toEqual(['fatigue_limit']);
  });

  it('when the same actor id is used in two tenants, then their nudge counts are separate', async () => {
    const a = newTenant(app);
    const b = newTenant(app);
    for (const fx of [a, b]) {
      await putPolicy(app, fx, { max_nudges_per_window: 1 });
      await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));
    }
    expect((await decide(app, a.service, decideBody(a.tenant))).body.outcome).toBe('shown');
    expect((await decide(app, a.service, decideBody(a.tenant))).body.outcome).toBe('suppressed');

    const inB = await decide(app, b.service, decideBody(b.tenant));

    expect(inB.body.outcome).toBe('shown');
  });

  it('when two playbooks match and one nudge is left, then the higher-priority action takes it and the other is fatigue_limit', async () => {
    const fx = newTenant(app);
    await putPolicy(app, fx, { max_nudges_per_window: 1 });
    const low = await publishPlaybook(app, fx.admin, requestPlaybook({ priority: 10, title: 'Low' }, { name: 'low' }));
    const high = await publishPlaybook(app, fx.admin, requestPlaybook({ priority: 90, title: 'High' }, { name: 'high' }));

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.body.outcome).toBe('shown');
    expect(res.body.actions.map((a: { playbook_id: string; payload: { title: string } }) => [a.playbook_id, a.payload.title])).toEqual([[high.playbook_id, 'High']]);
    expect(res.body.suppressed).toEqual([expect.objectContaining({ playbook_id: low.playbook_id, reason: 'fatigue_limit' })]);
  });

  it('when the policy allows no nudges at all, then even the first decision is suppressed as fatigue_limit', async () => {
    const fx = newTenant(app);
    await putPolicy(app, fx, { max_nudges_per_window: 0 });
    await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.body.outcome).toBe('suppressed');
    expect(res.body.suppressed.map((s: { reason: string }) => s.reason)).toEqual(['fatigue_limit']);
  });
});

describe('cool-down', () => {
  it('when the action has a 60 minute cool-down, then the second decision for the same actor is suppressed as cooldown', async () => {
    const fx = newTenant(app);
    const pb = await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 60 }));

    const first = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));
    const second = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(first.body.outcome).toBe('shown');
    expect(second.body.outcome).toBe('suppressed');
    expect(second.body.suppressed).toEqual([{ playbook_id: pb.playbook_id, playbook_version: 1, action_type: 'mirror', reason: 'cooldown' }]);
  });

  it("when one actor is cooling down, then another actor's first decision is still shown", async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 60 }));
    expect((await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }))).body.outcome).toBe('shown');

    const bob = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'bob' }));

    expect(bob.body.outcome).toBe('shown');
  });

  it("when the action names no cool-down, then the tenant policy's cooldown_minutes applies", async () => {
    const fx = newTenant(app);
    await putPolicy(app, fx, { cooldown_minutes: 45 });
    const action = { type: 'mirror', title: 'Recent activity', body: 'Activity today.' };
    await publishPlaybook(app, fx.admin, requestPlaybook({}, { actions: [action] }));

    const first = await decide(app, fx.service, decideBody(fx.tenant));
    const second = await decide(app, fx.service, decideBody(fx.tenant));

    expect(first.body.outcome).toBe('shown');
    expect(second.body.suppressed.map((s: { reason: string }) => s.reason)).toEqual(['cooldown']);
  });

  it('when one playbook is cooling down, then a different playbook is still shown to the same actor', async () => {
    const fx = newTenant(app);
    const cooling = await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 60 }, { name: 'first' }));
    expect((await decide(app, fx.service, decideBody(fx.tenant))).body.outcome).toBe('shown');
    const other = await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 60 }, { name: 'second' }));

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.body.outcome).toBe('shown');
    expect(res.body.actions.map((a: { playbook_id: string }) => a.playbook_id)).toEqual([other.playbook_id]);
    expect(res.body.suppressed).toEqual([expect.objectContaining({ playbook_id: cooling.playbook_id, reason: 'cooldown' })]);
  });
});
