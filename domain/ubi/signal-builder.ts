import type { ActorType } from '../model/common';
import type { BehaviouralSignal } from '../model/behavioural-signal';
import type { ColdStartState, RobustBaseline } from './baselines';
import { explanationText } from './explanation-text';
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

/**
 * A signal with its whole explanation: what was seen, what is typical, against which baseline and under which config;
 * in words for people (`summary`, `actual_text`, `typical_range_text`) beside the raw numbers they are made from.
 */
export function buildSignal(i: SignalInput): BehaviouralSignal {
  const a = i.assessment;
  const sigma = Math.round(a.sigma * 1e4) / 1e4;
  const text = explanationText({ def: i.def, value: i.value, typical_range: a.typical_range, source: i.source, samples: i.baseline.samples });
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
      summary: text.summary,
      feature: i.def.name,
      unit: i.def.unit,
      actual: i.value,
      actual_text: text.actual_text,
      typical_range: a.typical_range,
      typical_range_text: text.typical_range_text,
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
