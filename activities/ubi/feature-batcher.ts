import crypto from 'node:crypto';
import type { BehaviouralSignal } from '../../domain/model/behavioural-signal';
import type { RobustBaseline } from '../../domain/ubi/baselines';
import type { UbiConfig } from '../../domain/model/ubi-config';
import { detectAnomalies, type TeamBaseline } from '../../domain/ubi/detection';
import { MAX_CLOCK_SKEW_MS } from '../../domain/model/ubi-event';
import { computeFeatures, utcDay, WINDOWS, type FeatureEvent } from '../../domain/ubi/features';
import type { UbiRepositories } from '../../db/repositories/ubi-repositories';
import { actorKey, baselineKey, type DirtyPair } from '../../db/repositories/ubi-feature-repository';
import type { Logger } from '../../observability/logger';
import type { UbiMetrics } from '../../observability/metrics';
import type { SignalPublisher } from '../bus/signal-bus';
import { ubiSignalId } from './signal-ids';

const DAY_MS = 86_400_000;
/** Only today's and yesterday's values are scored: a back-filled month of history builds baselines, it does not alert. */
const SCORE_LOOKBACK_DAYS = 1;

/** The first of the open days (YYYY-MM-DD): days from it on are scored, earlier ones only feed baselines. */
export function openDaysSince(nowMs: number): string {
  return utcDay(nowMs - SCORE_LOOKBACK_DAYS * DAY_MS);
}

export interface FeatureBatcherDeps {
  repos: Pick<UbiRepositories, 'features' | 'signals' | 'configs' | 'events'>;
  publisher: SignalPublisher;
  metrics: UbiMetrics;
  logger: Logger;
  /** How many (actor, day) pairs one micro-batch claims. */
  batchSize?: number;
  /** Idle poll interval; ingestion in the same process wakes the loop at once. */
  intervalMs?: number;
  /** A claimed pair not released this long is claimed again (its batch's process died): well above a batch's time. */
  claimTimeoutMs?: number;
  now?: () => number;
}

export interface BatchResult {
  pairs: number;
  signals: BehaviouralSignal[];
}

/**
 * The feature micro-batcher (ADR 0006). It drains the dirty (actor, day) set in claimed batches: recomputes the daily
 * features of each pair and the 1 h / 1 d / 7 d window features of each actor, scores recent days against the stored
 * baselines, stores new signals in the same transaction, and publishes them after commit. A publish that fails leaves
 * the signal unpublished in the store; the loop retries those, so the bus gets every signal at least once.
 * `rescore` runs the same batch over pairs named by the caller: the baseline recompute scores the open days with it.
 */
export function createFeatureBatcher(deps: FeatureBatcherDeps) {
  const { repos, metrics, logger } = deps;
  const batchSize = deps.batchSize ?? 500;
  const intervalMs = deps.intervalMs ?? 200;
  const now = deps.now ?? Date.now;
  const claimTimeoutMs = deps.claimTimeoutMs ?? 60_000;
  let wake: (() => void) | undefined;
  let running = false;
  let loop: Promise<void> | undefined;
  /** How long drain() waits for pairs other processes' batches hold. */
  const DRAIN_WAIT_MS = 30_000;
  let lastRetry = 0;
  let lastGauge = 0;

  // Batches of one process run one at a time: drain() then also waits for a batch the loop has in flight.
  let inflight: Promise<unknown> = Promise.resolve();
  function serialised(batch: () => Promise<BatchResult>): Promise<BatchResult> {
    const run = inflight.then(batch);
    inflight = run.catch(() => undefined);
    return run;
  }
  const runOnce = () => serialised(() => runBatch((claimId) => repos.features.claimDirty(claimId, batchSize, claimTimeoutMs), { freshness: true }));

  /**
   * One batch: claims pairs, recomputes their features, scores the open days, stores and publishes the new signals.
   * `freshness`: the pairs were marked by ingestion, so their age is the ingestion-to-feature delay the metric reports.
   */
  async function runBatch(claim: (claimId: string) => Promise<DirtyPair[]>, opts: { freshness: boolean }): Promise<BatchResult> {
    const started = process.hrtime.bigint();
    let nowMs = now();
    let oldest = nowMs;
    const tenantsSeen = new Set<string>();
    // The claim is committed on its own: ingestion of these pairs meanwhile is not held up by this batch (it marks
    // them again, and the release below leaves them pending). Every event marked before the claim was committed
    // before it, so the reads below see it.
    const claimId = crypto.randomUUID();
    const pairs = await claim(claimId);
    if (pairs.length === 0) return { pairs: 0, signals: [] };
    const result = await repos.features.transaction(async (tx) => {
      // "Now" is taken after the claim: every event committed before it is inside the windows that end now.
      nowMs = now();
      const nowIso = new Date(nowMs).toISOString();
      // One event range per actor: every claimed day, plus the last 7 days for the window features.
      const ranges = new Map<string, { tenant_id: string; actor_id: string; from: number; to: number; days: string[] }>();
      for (const p of pairs) {
        oldest = Math.min(oldest, new Date(p.marked_at).getTime());
        tenantsSeen.add(p.tenant_id);
        const k = actorKey(p.tenant_id, p.actor_id);
        const dayStart = Date.parse(`${p.day}T00:00:00Z`);
        // Events may be stamped up to the allowed clock skew ahead of ours; they belong to the current windows too.
        const r = ranges.get(k) ?? { tenant_id: p.tenant_id, actor_id: p.actor_id, from: nowMs - WINDOWS['7d'], to: nowMs + MAX_CLOCK_SKEW_MS + 1, days: [] };
        r.from = Math.min(r.from, dayStart);
        r.to = Math.max(r.to, dayStart + DAY_MS);
        r.days.push(p.day);
        ranges.set(k, r);
      }
      const list = [...ranges.values()];
      const [events, actors, configs] = await Promise.all([
        repos.features.events(tx, list.map((r) => ({ ...r, from: new Date(r.from), to: new Date(r.to) }))),
        repos.features.actors(tx, list.map((r) => r.tenant_id), list.map((r) => r.actor_id)),
        repos.configs.getMany([...tenantsSeen]),
      ]);
      // When the PRs were opened and first reviewed, for cycle time, review turnaround, pick-up time and rework.
      const prIds = new Map<string, Set<string>>();
      for (const r of list)
        for (const e of events.get(actorKey(r.tenant_id, r.actor_id)) ?? [])
          if ((e.event_type === 'pr_merged' || e.event_type === 'pr_review_submitted') && e.properties.pr_id !== undefined) {
            const s = prIds.get(r.tenant_id) ?? new Set<string>();
            s.add(String(e.properties.pr_id));
            prIds.set(r.tenant_id, s);
          }
      const prTimes = await repos.features.prTimes(tx, [...prIds].flatMap(([tenant_id, ids]) => [...ids].map((pr_id) => ({ tenant_id, pr_id }))));

      // Baselines of the actors that have a recent day to score.
      const scoreFrom = openDaysSince(nowMs);
      const subjects: Array<{ tenant_id: string; scope: 'personal' | 'team'; subject_id: string; actor_type: string }> = [];
      for (const r of list) {
        const a = actors.get(actorKey(r.tenant_id, r.actor_id));
        if (!a || !r.days.some((d) => d >= scoreFrom)) continue;
        subjects.push({ tenant_id: r.tenant_id, scope: 'personal', subject_id: r.actor_id, actor_type: a.actor_type });
        if (a.team_id) subjects.push({ tenant_id: r.tenant_id, scope: 'team', subject_id: a.team_id, actor_type: a.actor_type });
      }
      const baselines = await repos.features.baselines(tx, subjects);
      const byFeature = <B extends RobustBaseline & { feature: string }>(rows: B[] | undefined) => new Map((rows ?? []).map((b) => [b.feature, { ...b, median: Number(b.median), mad: Number(b.mad), mean_abs_dev: Number(b.mean_abs_dev) }]));

      const daily: Array<{ tenant_id: string; actor_id: string; actor_type: string; feature: string; day: string; value: number }> = [];
      const windows: Array<{ tenant_id: string; actor_id: string; window: string; feature: string; value: number; start: Date; end: Date }> = [];
      const candidates: BehaviouralSignal[] = [];
      const featureStarted = process.hrtime.bigint();
      for (const r of list) {
        const a = actors.get(actorKey(r.tenant_id, r.actor_id));
        if (!a) continue; // erased meanwhile
        const all = events.get(actorKey(r.tenant_id, r.actor_id)) ?? [];
        const pr = prTimes.get(r.tenant_id);
        const ctx = { prOpenedAtMs: pr?.openedAtMs ?? new Map<string, number>(), prReviews: pr?.reviews, hourProfile: a.hour_profile };
        const cfg: UbiConfig = configs.get(r.tenant_id) as UbiConfig;
        const personal = byFeature(baselines.get(baselineKey(r.tenant_id, 'personal', r.actor_id, a.actor_type)));
        const team = byFeature(a.team_id ? baselines.get(baselineKey(r.tenant_id, 'team', a.team_id, a.actor_type)) : undefined) as Map<string, TeamBaseline>;
        for (const day of r.days) {
          const lo = Date.parse(`${day}T00:00:00Z`);
          const dayEvents = all.filter((e: FeatureEvent) => e.occurred_at_ms >= lo && e.occurred_at_ms < lo + DAY_MS);
          const features = computeFeatures(dayEvents, ctx, a.actor_type);
          for (const [feature, value] of Object.entries(features)) daily.push({ tenant_id: r.tenant_id, actor_id: r.actor_id, actor_type: a.actor_type, feature, day, value });
          if (day < scoreFrom) continue;
          candidates.push(
            ...detectAnomalies({
              tenant_id: r.tenant_id, actor_id: r.actor_id, actor_type: a.actor_type, team_id: a.team_id, day, features,
              state: a.state ?? 'insufficient', personal, team,
              config: cfg, now: nowIso,
              signalId: (parts) => ubiSignalId(r.tenant_id, r.actor_id, parts),
            }),
          );
        }
        for (const [name, span] of Object.entries(WINDOWS)) {
          const start = nowMs - span;
          const inWindow = all.filter((e) => e.occurred_at_ms >= start);
          if (inWindow.length === 0) continue;
          for (const [feature, value] of Object.entries(computeFeatures(inWindow, ctx, a.actor_type)))
            windows.push({ tenant_id: r.tenant_id, actor_id: r.actor_id, window: name, feature, value, start: new Date(start), end: new Date(nowMs) });
        }
      }
      const featureSeconds = Number(process.hrtime.bigint() - featureStarted) / 1e9;
      for (const t of tenantsSeen) metrics.featureComputation.observe({ tenant_id: t, feature_name: 'all' }, featureSeconds);

      await repos.features.replaceDaily(tx, pairs, daily);
      await repos.features.replaceWindows(tx, list, windows);
      const inserted = await repos.signals.insert(tx, candidates);
      // Last, so the pairs' rows are locked only for the commit: ingestion waits on them that long at most.
      await repos.features.release(tx, claimId);
      return { pairs: pairs.length, signals: candidates.filter((s) => inserted.has(s.signal_id)) };
    }).catch(async (err: unknown) => {
      await repos.features.unclaim(claimId).catch(() => undefined);
      throw err;
    });
    if (result.pairs > 0 && opts.freshness) metrics.freshness.observe((now() - oldest) / 1000);
    for (const s of result.signals) {
      metrics.signalsGenerated.inc({ tenant_id: s.tenant_id, dimension: s.dimension, signal_type: s.signal_type });
      metrics.anomalies.inc({ tenant_id: s.tenant_id, dimension: s.dimension, severity: s.severity });
    }
    if (result.signals.length) await publish(result.signals);
    logger.debug({ pairs: result.pairs, signals: result.signals.length, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'ubi micro-batch');
    return result;
  }

  async function publish(signals: BehaviouralSignal[]): Promise<boolean> {
    try {
      await deps.publisher.publish(signals);
      await repos.signals.markPublished(signals.map((s) => s.signal_id));
      return true;
    } catch (err) {
      metrics.publishFailures.inc();
      logger.warn({ err: err instanceof Error ? err.message : String(err), signals: signals.length }, 'publishing UBI signals failed; they stay stored and are retried');
      return false;
    }
  }

  /** Signals stored but never published (publish failed, or the process died in between) go out again. */
  async function retryUnpublished(minAgeSeconds = 5): Promise<number> {
    const pending = await repos.signals.unpublished(minAgeSeconds, 200);
    if (pending.length && (await publish(pending))) return pending.length;
    return 0;
  }

  async function refreshQueueGauge(): Promise<void> {
    const backlog = await repos.events.backlog();
    metrics.queueSize.reset();
    for (const t of backlog.byTenant) metrics.queueSize.set({ tenant_id: t.tenant_id }, t.pending);
  }

  /**
   * Runs batches until the dirty set is empty (tests and the bench call this to wait for freshness). A claim skips the
   * pairs another process's batch holds (its live claim), so an empty claim is not yet an empty set: while pairs
   * remain, held elsewhere, it waits for that batch to release them (at most DRAIN_WAIT_MS) and claims again.
   */
  async function drain(): Promise<BatchResult> {
    const all: BehaviouralSignal[] = [];
    let pairs = 0;
    const deadline = Date.now() + DRAIN_WAIT_MS;
    for (;;) {
      const r = await runOnce();
      pairs += r.pairs;
      all.push(...r.signals);
      if (r.pairs > 0) continue;
      if ((await repos.events.backlog()).pending === 0 || Date.now() > deadline) return { pairs, signals: all };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Recomputes and scores the given (actor, day) pairs now, as one batch of this process (the baseline recompute's
   * last step, so the open days meet the new baselines without waiting for another event). One statement marks the
   * pairs pending and claims them, so no other batch (of this process or another) can take them in between: the
   * result names the signals of exactly these pairs, published here. A pair another process's live batch holds is
   * marked again instead: that batch finishes with what it read and leaves it pending for the next batch, which reads
   * the new baselines.
   */
  function rescore(pairs: ReadonlyArray<{ tenant_id: string; actor_id: string; day: string }>): Promise<BatchResult> {
    if (pairs.length === 0) return Promise.resolve({ pairs: 0, signals: [] });
    const list = [...pairs];
    return serialised(() => runBatch((claimId) => repos.features.markAndClaim(claimId, list, claimTimeoutMs), { freshness: false }));
  }

  return {
    drain,
    rescore,
    retryUnpublished,
    /** Ingestion in this process calls this so fresh events do not wait for the next poll. */
    notify() {
      wake?.();
    },
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let didWork = false;
          try {
            didWork = (await runOnce()).pairs > 0;
            const t = now();
            if (t - lastRetry > 5000) {
              lastRetry = t;
              await retryUnpublished();
            }
            if (t - lastGauge > 1000) {
              lastGauge = t;
              await refreshQueueGauge();
            }
          } catch (err) {
            logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'UBI micro-batch failed; retrying');
          }
          if (didWork || !running) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, intervalMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      })();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
export type FeatureBatcher = ReturnType<typeof createFeatureBatcher>;
