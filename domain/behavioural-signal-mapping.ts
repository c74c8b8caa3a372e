/**
 * From a behavioural signal on the bus to what the decide spine takes (FR-1: one normalised envelope for every
 * source), and on which surfaces to decide. Pure, so unit tests pin both.
 */
import type { ActorType, Scalar, Surface } from './model/common';
import type { BehaviouralSignal } from './model/behavioural-signal';
import { SURFACE_VALUES } from './model/constants';
import type { PublishedPlaybook } from './model/playbook';
import type { Signal } from './model/signal';
import { matchPlaybooks } from './playbook-matching';

/** The decide request's payload limits (domain/model/signal.ts): 32 keys of letters, digits and _, short scalars. */
const MAX_PAYLOAD_KEYS = 32;
const PAYLOAD_KEY = /^[A-Za-z0-9_]{1,64}$/;
const MAX_STRING = 512;

function isPayloadScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= MAX_STRING);
}

/**
 * The engine's signal: `kind` is the signal type, `occurred_at` its creation time, and the payload carries the numbers
 * that explain it (so playbook conditions such as `signal.payload.score gte 70` and templates can use them). Only
 * scalars travel: nested explanation values are left out, and the explanation's own keys never override the core
 * fields.
 */
export function toEngineSignal(s: BehaviouralSignal): Signal {
  const payload: Record<string, Scalar> = {
    dimension: s.dimension,
    value: s.value,
    score: s.score,
    baseline_mean: s.baseline.mean,
    baseline_spread: s.baseline.spread,
    baseline_samples: s.baseline.samples,
    baseline_source: s.baseline.source,
    window_start: s.window_start,
    window_end: s.window_end,
    config_version: s.config_version,
  };
  for (const [key, value] of Object.entries(s.explanation)) {
    if (Object.keys(payload).length >= MAX_PAYLOAD_KEYS) break;
    // The summary is a sentence for people: free text, which the privacy filter would drop from the decide request.
    if (key === 'summary' || !PAYLOAD_KEY.test(key) || Object.hasOwn(payload, key) || !isPayloadScalar(value)) continue;
    payload[key] = value;
  }
  return { signal_id: s.signal_id, source: 'ubi', kind: s.signal_type, severity: s.severity, occurred_at: s.created_at, payload };
}

/**
 * The surfaces to decide on: those named by a trigger of a published playbook that this signal wakes (kind, source,
 * severity, actor type and conditions, exactly as the decision will judge them), or `defaults` for a trigger that
 * names none. Empty when no playbook applies: then there is nothing to decide. In SURFACE_VALUES order.
 */
export function surfacesForSignal(playbooks: PublishedPlaybook[], input: { actor_type: ActorType; signal: Signal }, defaults: readonly Surface[]): Surface[] {
  const chosen = new Set<Surface>();
  for (const playbook of playbooks)
    for (const trigger of playbook.definition.triggers)
      for (const surface of trigger.surfaces ?? defaults)
        if (!chosen.has(surface) && matchPlaybooks([playbook], { actor_type: input.actor_type, surface, signal: input.signal }).length) chosen.add(surface);
  return SURFACE_VALUES.filter((s) => chosen.has(s));
}
