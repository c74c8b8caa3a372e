import type { ActorType } from '../model/common';
import type { BehaviouralSignal } from '../model/behavioural-signal';
import type { ColdStartState, RobustBaseline } from './baselines';
import type { FeatureDef } from './features';
import type { Assessment, BaselineSource } from './scoring';

export interface SignalInput {
  signal_id: string;
  tenant_id: string;
  actor_id: string;
  actor_type: ActorType;
  team_id: string | null;
  def: FeatureDef;
  value: number;
  baseline: RobustBaseline;
  source: BaselineSource;
  state: ColdStartState;
  assessment: Assessment;
  window_start: string;
  window_end: string;
  created_at: string;
  config_version: number;
}

/** `build_failure_rate` above its range becomes `build_failure_rate_high`: the kind a playbook trigger names. */
export function signalType(def: FeatureDef, direction: 'above' | 'below'): string {
  return `${def.name}_${direction === 'above' ? 'high' : 'low'}`;
}

/** A signal with its whole explanation: what was seen, what is typical, against which baseline and under which config. */
export function buildSignal(i: SignalInput): BehaviouralSignal {
  const a = i.assessment;
  const sigma = Math.round(a.sigma * 1e4) / 1e4;
  return {
    signal_id: i.signal_id,
    tenant_id: i.tenant_id,
    actor_id: i.actor_id,
    actor_type: i.actor_type,
    team_id: i.team_id,
    dimension: i.def.dimension,
    signal_type: signalType(i.def, a.direction),
    severity: a.severity,
    value: i.value,
    baseline: { mean: i.baseline.median, spread: sigma, samples: i.baseline.samples, source: i.source },
    score: a.score,
    explanation: {
      summary: `${i.def.name.replace(/_/g, ' ')} was ${i.value} ${i.def.unit}, ${a.direction} the typical range ${a.typical_range[0]}–${a.typical_range[1]} (${i.source} baseline over ${i.baseline.samples} days)`,
      feature: i.def.name,
      unit: i.def.unit,
      actual: i.value,
      typical_range: a.typical_range,
      baseline: { median: i.baseline.median, mad: i.baseline.mad, spread: sigma, samples: i.baseline.samples, source: i.source },
      direction: a.direction,
      modified_z: a.z,
      threshold: a.threshold,
      score: a.score,
      severity_cap: a.severity_cap,
      cold_start: i.state,
      config_version: i.config_version,
    },
    window_start: i.window_start,
    window_end: i.window_end,
    created_at: i.created_at,
    config_version: i.config_version,
  };
}
