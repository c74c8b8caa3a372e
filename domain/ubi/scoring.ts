import type { Severity } from '../model/common';
import { SEVERITY_RANK } from '../model/constants';
import type { ColdStartState, RobustBaseline } from './baselines';
import type { FeatureDef } from './features';

/** 1.4826 x MAD estimates the standard deviation of normal data, so z = 0.6745 (x - median) / MAD (Iglewicz-Hoaglin). */
const MAD_TO_SIGMA = 1.4826;
/** sqrt(pi/2): the same for the mean absolute deviation, the fallback when MAD is 0. */
const MEANAD_TO_SIGMA = 1.253314;

export interface ScoringConfig {
  /** |modified z| at or above this is an anomaly (Iglewicz and Hoaglin suggest 3.5). */
  z_threshold: number;
  /** While warming (7-27 active days) the threshold is multiplied by this, and severity is capped. */
  warming_multiplier: number;
}

export type BaselineSource = 'personal' | 'team' | 'default';

/** The robust spread used for scoring: MAD-based, else mean-absolute-deviation-based, never below the feature floor. */
export function robustSigma(b: RobustBaseline, minSpread: number): number {
  const sigma = b.mad > 0 ? b.mad * MAD_TO_SIGMA : b.mean_abs_dev * MEANAD_TO_SIGMA;
  return Math.max(sigma, minSpread);
}

export function modifiedZ(value: number, b: RobustBaseline, minSpread: number): number {
  return (value - b.median) / robustSigma(b, minSpread);
}

/** 0-100: the threshold maps to 25, four times the threshold (or more) to 100. */
export function scoreFromZ(absZ: number, threshold: number): number {
  return Math.round(Math.min(100, (25 * absZ) / threshold) * 10) / 10;
}

export function severityFromScore(score: number): Severity {
  if (score >= 75) return 'critical';
  if (score >= 50) return 'high';
  if (score >= 37.5) return 'medium';
  if (score >= 25) return 'low';
  return 'info';
}

function capSeverity(s: Severity, cap: Severity): Severity {
  return SEVERITY_RANK[s] > SEVERITY_RANK[cap] ? cap : s;
}

export interface Assessment {
  anomalous: boolean;
  z: number;
  score: number;
  severity: Severity;
  direction: 'above' | 'below';
  threshold: number;
  sigma: number;
  typical_range: [number, number];
  severity_cap: Severity | null;
}

/**
 * Scores one value against a baseline. Cold start: an actor with `insufficient` history has no personal anomalies
 * (the caller passes a team baseline or nothing); `warming` uses a stricter threshold and caps severity at medium, as
 * does scoring against a team baseline (the actor's own normal is not known yet).
 */
export function assess(value: number, baseline: RobustBaseline, def: FeatureDef, state: ColdStartState, source: BaselineSource, cfg: ScoringConfig): Assessment {
  const sigma = robustSigma(baseline, def.minSpread);
  const z = modifiedZ(value, baseline, def.minSpread);
  const threshold = state === 'warming' && source === 'personal' ? cfg.z_threshold * cfg.warming_multiplier : cfg.z_threshold;
  const direction = z >= 0 ? 'above' : 'below';
  const concerning = def.concern === 'higher' ? z > 0 : z < 0;
  const score = scoreFromZ(Math.abs(z), threshold);
  const cap: Severity | null = source !== 'personal' || state === 'warming' ? 'medium' : null;
  const severity = cap ? capSeverity(severityFromScore(score), cap) : severityFromScore(score);
  const lo = baseline.median - threshold * sigma;
  const hi = baseline.median + threshold * sigma;
  return {
    anomalous: concerning && Math.abs(z) >= threshold,
    z: Math.round(z * 1000) / 1000,
    score,
    severity,
    direction,
    threshold,
    sigma: Math.round(sigma * 1e6) / 1e6,
    typical_range: [Math.round(Math.max(0, lo) * 1e4) / 1e4, Math.round(hi * 1e4) / 1e4],
    severity_cap: cap,
  };
}
