/**
 * UBI test support: an in-memory SignalPublisher (the real bus is another component) and generators of realistic
 * developer activity, shared by the component tests, the workflow tests and the quality harness.
 */
import type { SignalPublisher } from '../../activities/bus/signal-bus';
import type { BehaviouralSignal } from '../../domain/model/behavioural-signal';
import type { TestApp } from './harness';

export interface FakeSignalPublisher extends SignalPublisher {
  published: BehaviouralSignal[];
  /** The next `times` publishes throw, as a bus outage would. */
  failNext(times: number): void;
  forTenant(tenantId: string): BehaviouralSignal[];
}

export function createFakeSignalPublisher(): FakeSignalPublisher {
  const published: BehaviouralSignal[] = [];
  let failures = 0;
  return {
    published,
    failNext(times) {
      failures = times;
    },
    async publish(signals) {
      if (failures > 0) {
        failures--;
        throw new Error('bus unavailable (fake)');
      }
      published.push(...signals);
    },
    forTenant: (tenantId) => published.filter((s) => s.tenant_id === tenantId),
  };
}

export interface EventSpec {
  tenant_id: string;
  actor_id: string;
  actor_type?: 'human' | 'ai_agent';
  team_id?: string;
  repo_id?: string;
}

let seq = 0;
function eventId(prefix: string): string {
  seq++;
  return `${prefix}-${Date.now().toString(36)}-${seq}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

export function event(spec: EventSpec, eventType: string, at: Date, properties: Record<string, unknown> = {}) {
  return {
    event_id: eventId('ev'),
    tenant_id: spec.tenant_id,
    actor_id: spec.actor_id,
    actor_type: spec.actor_type ?? 'human',
    event_type: eventType,
    occurred_at: at.toISOString(),
    source: 'github',
    ...(spec.team_id ? { team_id: spec.team_id } : {}),
    repo_id: spec.repo_id ?? 'repo-a',
    properties,
  };
}

/** A UTC day `daysAgo` before today, at `hour`:`minute`. */
export function dayAt(daysAgo: number, hour: number, minute = 0): Date {
  const d = new Date();
  d.setUTCHours(hour, minute, 0, 0);
  d.setUTCDate(d.getUTCDate() - daysAgo);
  return d;
}

/**
 * A steady working day: `builds` builds of which `failures` fail, spread over office hours, plus an IDE session.
 * Deterministic for a given day so baselines in tests have known shapes.
 */
export function buildDay(spec: EventSpec, daysAgo: number, builds: number, failures: number) {
  const out = [];
  for (let i = 0; i < builds; i++) out.push(event(spec, 'build_completed', dayAt(daysAgo, 9 + (i % 8), (i * 7) % 60), { status: i < failures ? 'failure' : 'success', duration_ms: 60_000 + i * 1000 }));
  out.push(event(spec, 'ide_session', dayAt(daysAgo, 10), { duration_ms: 3_600_000 }));
  return out;
}

/** 28 days (1..28 days ago) of builds with a failure rate that wanders between 0 and 0.25. */
export function steadyHistory(spec: EventSpec, days = 28) {
  const out = [];
  for (let d = 1; d <= days; d++) out.push(...buildDay(spec, d, 8, d % 3));
  return out;
}

/**
 * In-memory stand-in for the repository slices the recompute and retention activities use, and for the micro-batcher
 * they score open days through (`rescored` records every pair it was given; actors with an even number have a signal).
 */
export function createFakeUbiBaselineStore(actorCount: number) {
  const actors = Array.from({ length: actorCount }, (_, i) => ({ actor_id: `actor-${String(i).padStart(6, '0')}`, actor_type: (i % 4 === 0 ? 'ai_agent' : 'human') as 'human' | 'ai_agent' }));
  const saved = new Map<string, unknown[]>();
  const profiles = new Map<string, { state: string; active_days: number }>();
  const pageCalls: Array<{ after: string | null; limit: number }> = [];
  let expired = 12_000;
  const rescored: Array<{ actor_id: string; day: string }> = [];
  return {
    saved,
    profiles,
    pageCalls,
    rescored,
    /** Every actor has two open days, yesterday and today (the days are fixed: the fake does not read the clock). */
    async openDays(tenantId: string, _since: string, after: string | null, limit: number) {
      const page = actors.filter((a) => a.actor_id > (after ?? '')).slice(0, limit);
      return { actors: page.map((a) => a.actor_id), pairs: page.flatMap((a) => ['2026-03-09', '2026-03-10'].map((day) => ({ tenant_id: tenantId, actor_id: a.actor_id, day }))) };
    },
    async rescore(pairs: ReadonlyArray<{ actor_id: string; day: string }>) {
      rescored.push(...pairs.map((p) => ({ actor_id: p.actor_id, day: p.day })));
      const signalled = pairs.filter((p) => p.day === '2026-03-10' && Number(p.actor_id.slice(6)) % 2 === 0);
      return { pairs: pairs.length, signals: signalled.map((p) => ({ signal_id: `sig-${p.actor_id}` }) as never) };
    },
    async loadActorPage(_tenantId: string, _asOf: string, after: string | null, limit: number) {
      pageCalls.push({ after, limit });
      const page = actors.filter((a) => a.actor_id > (after ?? '')).slice(0, limit);
      return {
        actors: page,
        series: page.map((a, i) => ({ actor_id: a.actor_id, feature: 'build_failure_rate', vals: Array.from({ length: 28 }, (_, d) => ((d + i) % 5) / 10) })),
        activeDays: new Map(page.map((a) => [a.actor_id, Number(a.actor_id.slice(6)) % 30])),
        slots: page.map((a) => ({ actor_id: a.actor_id, slot: 9, n: 4 })),
      };
    },
    async saveBaselines(_t: string, _asOf: string, rows: Array<{ subject_id: string }>, scope: { scope: string }) {
      for (const r of rows) saved.set(`${scope.scope}:${r.subject_id}`, [r]);
    },
    async saveProfiles(_t: string, _asOf: string, rows: Array<{ actor_id: string; state: string; active_days: number }>) {
      for (const r of rows) profiles.set(r.actor_id, { state: r.state, active_days: r.active_days });
    },
    async loadTeamSeries() {
      return [{ team_id: 'team-1', actor_type: 'human', feature: 'build_failure_rate', vals: [0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1], members: 5 }];
    },
    async deleteExpiredSlice(_t: string, _cutoff: Date, limit: number) {
      const n = Math.min(limit, expired);
      expired -= n;
      return n;
    },
    async deleteStaleActors() {
      return 2;
    },
  };
}

/** Builds today that all fail: far outside a 0–0.25 failure-rate history. */
export function failingToday(spec: EventSpec, n = 6) {
  return Array.from({ length: n }, (_, i) => event(spec, 'build_completed', new Date(Date.now() - (i + 1) * 1000), { status: 'failure' }));
}

/** Sends events through the HTTP API in batches of 1000; any rejection fails the test. */
export async function ingestEvents(app: TestApp, token: string, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await app.request('POST', '/v1/ubi/events', { token, body: { events: events.slice(i, i + 1000) } });
    if (res.status !== 202 || res.body.rejected.length) throw new Error(`ingest gave ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  }
}

/** Starts the tenant's baseline recompute through the API and waits for the workflow's result. */
export async function recompute(app: TestApp, fx: { tenant: string; admin: string }) {
  const res = await app.request('POST', `/v1/ubi/tenants/${fx.tenant}/baselines/recompute`, { token: fx.admin });
  if (res.status !== 202) throw new Error(`recompute gave ${res.status}: ${JSON.stringify(res.body)}`);
  return app.runtime.temporal.client.workflow.getHandle(res.body.workflow_id).result();
}
