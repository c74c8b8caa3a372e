/**
 * UBI ingesting from `ubi.events` (CONTRACT.md "Buses") against the real runtime on one bus: the same validation,
 * privacy filter and de-duplication as POST /v1/ubi/events, a rejected event on the dead letter with the route's
 * reason, and features fresh within seconds. Each bus's component test file runs it with its own BUS_TYPE.
 */
import { QueryTypes } from 'sequelize';
import { UBI_EVENTS_TOPIC } from '../../domain/model/ubi-event';
import { newTenant } from '../component/fixtures';
import { waitFor } from './bus-contract';
import type { TestApp } from './harness';
import { event } from './ubi-fakes';

export function ubiBusIngestionSuite(name: string, app: TestApp) {
  describe(`UBI ingestion from ubi.events on ${name}`, () => {
    const stored = async (tenant: string) =>
      (await app.runtime.repos.sequelize.query(`SELECT event_id, to_jsonb(e)::text AS t FROM ubi_events e WHERE tenant_id = :tenant`, { replacements: { tenant }, type: QueryTypes.SELECT })) as Array<{
        event_id: string;
        t: string;
      }>;

    test('when events arrive on the bus, then valid ones are stored once, privacy-filtered, and each rejected one is on the dead letter with its reason', async () => {
      const fx = newTenant(app);
      const spec = { tenant_id: fx.tenant, actor_id: 'dev-1' };
      const at = new Date(Date.now() - 60_000);
      const good = event(spec, 'build_completed', at, { status: 'failure', log: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8' });
      const other = event(spec, 'pr_opened', at, { pr_id: 'pr-7', size_bucket: 's', author_email: 'jane.doe@example.com' });
      const unknownType = { ...event(spec, 'build_completed', at, { status: 'success' }), event_type: 'telepathy' };
      const otherTenant = { ...event(spec, 'ide_session', at, { duration_ms: 5 }), tenant_id: 'someone-else' };
      const bus = app.runtime.bus;
      for (const e of [good, other, good, unknownType, otherTenant]) await bus.publishRaw(UBI_EVENTS_TOPIC, fx.tenant, e);
      await bus.publishRaw(UBI_EVENTS_TOPIC, fx.tenant, '{not json');

      const letters = await waitFor(
        'three dead letters',
        async () => {
          const l = (await bus.deadLetters(UBI_EVENTS_TOPIC, 1000)).filter((d) => d.key === fx.tenant);
          return l.length >= 3 ? l : undefined;
        },
        30_000,
      );
      const rows = await waitFor('two stored events', async () => {
        const r = await stored(fx.tenant);
        return r.length >= 2 ? r : undefined;
      });
      expect(rows.map((r) => r.event_id).sort()).toEqual([good.event_id, other.event_id].sort());
      const text = rows.map((r) => r.t).join('\n');
      expect(text).not.toMatch(/ghp_|jane\.doe/);
      expect(letters.map((l) => l.reason).sort()).toEqual([
        'event rejected: forbidden_tenant (tenant_id)',
        'event rejected: not_an_object ((event))',
        'event rejected: unknown_event_type (event_type)',
      ]);
      expect(letters.map((l) => l.deliveries)).toEqual([1, 1, 1]);
      // The duplicate was stored once and counted as such, as over HTTP.
      const metrics = String((await app.request('GET', '/metrics')).body);
      expect(metrics).toMatch(new RegExp(`ubi_events_processed_total\\{[^}]*tenant_id="${fx.tenant}"[^}]*status="duplicate"[^}]*\\} 1`));
    });

    test('when events arrive on the bus, then the actor profile shows their features within seconds', async () => {
      const fx = newTenant(app);
      const spec = { tenant_id: fx.tenant, actor_id: 'dev-1', repo_id: 'repo-x' };
      const at = new Date(Date.now() - 5 * 60_000);
      const events = [
        event(spec, 'build_completed', at, { status: 'failure' }),
        event(spec, 'build_completed', at, { status: 'success' }),
        event(spec, 'build_completed', at, { status: 'success' }),
        event(spec, 'build_completed', at, { status: 'success' }),
      ];
      const sent = Date.now();
      for (const e of events) await app.runtime.bus.publishRaw(UBI_EVENTS_TOPIC, fx.tenant, e);
      const profile = await waitFor('features', async () => {
        const p = await app.request('GET', '/v1/ubi/actors/dev-1/profile', { token: fx.actor('dev-1') });
        return p.status === 200 && p.body.features['1h']?.values.build_failure_rate === 0.25 ? p : undefined;
      });
      expect(profile.body.features['1h'].values).toMatchObject({ build_failure_rate: 0.25 });
      expect(Date.now() - sent).toBeLessThan(5_000);
    });
  });
}
