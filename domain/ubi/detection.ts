import type { ActorType } from '../model/common';
import type { BehaviouralSignal } from '../model/behavioural-signal';
import { MIN_ACTIVE_DAYS, type ColdStartState, type RobustBaseline } from './baselines';
import { FEATURE_BY_NAME } from './features';
import { assess, type BaselineSource, type ScoringConfig } from './scoring';
import { buildSignal, signalType } from './signal-builder';

export interface DetectionConfig extends ScoringConfig {
  enabled_dimensions: readonly string[];
  min_group_size: number;
  version: number;
}

export interface TeamBaseline extends RobustBaseline {
  members: number;
}

export interface DetectionInput {
  tenant_id: string;
  actor_id: string;
  actor_type: ActorType;
  team_id: string | null;
  /** The UTC day (YYYY-MM-DD) the feature values describe: the signal's window. */
  day: string;
  features: Readonly<Record<string, number>>;
  state: ColdStartState;
  /** The actor's own baselines by feature (only trusted from `warming` on). */
  personal: ReadonlyMap<string, RobustBaseline>;
  /** The baselines of the actor's team and actor type, by feature. */
  team: ReadonlyMap<string, TeamBaseline>;
  config: DetectionConfig;
  now: string;
  /** Signal ids are derived by the caller (hashing is I/O-free but not the domain's concern): same inputs, same id. */
  signalId(parts: { feature: string; signal_type: string; day: string }): string;
}

/** Which baseline a feature is scored against, following the cold-start rules; null when none may be used. */
export function chooseBaseline(feature: string, i: Pick<DetectionInput, 'state' | 'personal' | 'team' | 'config'>): { baseline: RobustBaseline; source: BaselineSource } | null {
  const personal = i.personal.get(feature);
  if (i.state !== 'insufficient' && personal && personal.samples >= MIN_ACTIVE_DAYS) return { baseline: personal, source: 'personal' };
  const team = i.team.get(feature);
  if (team && team.members >= i.config.min_group_size && team.samples >= MIN_ACTIVE_DAYS) return { baseline: team, source: 'team' };
  return null;
}

/** The signals one actor-day produces: one per feature whose value is an anomaly in its worrying direction. */
export function detectAnomalies(i: DetectionInput): BehaviouralSignal[] {
  const signals: BehaviouralSignal[] = [];
  const windowStart = `${i.day}T00:00:00.000Z`;
  const windowEnd = new Date(Date.parse(windowStart) + 86_400_000).toISOString();
  for (const [feature, value] of Object.entries(i.features)) {
    const def = FEATURE_BY_NAME.get(feature);
    if (!def || !def.actorTypes.includes(i.actor_type) || !i.config.enabled_dimensions.includes(def.dimension)) continue;
    const chosen = chooseBaseline(feature, i);
    if (!chosen) continue;
    const a = assess(value, chosen.baseline, def, i.state, chosen.source, i.config);
    if (!a.anomalous) continue;
    const type = signalType(def, a.direction);
    signals.push(
      buildSignal({
        signal_id: i.signalId({ feature, signal_type: type, day: i.day }),
        tenant_id: i.tenant_id, actor_id: i.actor_id, actor_type: i.actor_type, team_id: i.team_id,
        def, value, baseline: chosen.baseline, source: chosen.source, state: i.state, assessment: a,
        window_start: windowStart, window_end: windowEnd, created_at: i.now, config_version: i.config.version,
      }),
    );
  }
  return signals;
}
