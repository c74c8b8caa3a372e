/**
 * UBI's side of the privacy filter (NFR-3, data minimisation): the per-event-type allow-list of properties with a
 * validator for each. Values are classified by the detectors every way in shares (domain/privacy/detectors.ts).
 */
import { classifyString } from '../privacy/detectors';

export { classifyString, type PrivacyFinding } from '../privacy/detectors';

/** A property validator: returns the value to store, or a reason it was dropped. */
type PropertyCheck = (v: unknown) => { value: string | number } | { reason: string };

const SHORT_ID = /^[A-Za-z0-9][A-Za-z0-9._:#/-]{0,63}$/;

function enumOf(...values: string[]): PropertyCheck {
  return (v) => (typeof v === 'string' && values.includes(v) ? { value: v } : { reason: `must be one of ${values.join(', ')}` });
}
function nonNegativeInt(max: number): PropertyCheck {
  return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? { value: v } : { reason: `must be an integer from 0 to ${max}` });
}
const shortId: PropertyCheck = (v) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { value: String(v) };
  if (typeof v !== 'string') return { reason: 'must be a short identifier' };
  const finding = classifyString(v);
  if (finding) return { reason: finding };
  return SHORT_ID.test(v) ? { value: v } : { reason: 'must be a short identifier (letters, digits, . _ : # / -)' };
};

const PR = { pr_id: shortId, size_bucket: enumOf('xs', 's', 'm', 'l', 'xl') };
const STATUS = enumOf('success', 'failure');
const DAY_MS = 86_400_000;

/**
 * The allow-list (CONTRACT.md "Event types"): per event type, the only properties stored and how each is checked.
 * `required` properties make the event unusable when missing or dropped, so the event is rejected instead.
 */
export const EVENT_TYPE_RULES: Record<string, { properties: Record<string, PropertyCheck>; required: string[] }> = {
  commit_pushed: { properties: {}, required: [] },
  pr_opened: { properties: PR, required: ['pr_id'] },
  pr_review_submitted: { properties: { ...PR, review_state: enumOf('approved', 'changes_requested', 'commented') }, required: ['pr_id'] },
  pr_merged: { properties: PR, required: ['pr_id'] },
  build_completed: { properties: { status: STATUS, duration_ms: nonNegativeInt(7 * DAY_MS) }, required: ['status'] },
  deploy_completed: { properties: { status: STATUS, duration_ms: nonNegativeInt(7 * DAY_MS) }, required: ['status'] },
  test_run_completed: { properties: { status: STATUS, test_count: nonNegativeInt(10_000_000), flaky_count: nonNegativeInt(10_000_000) }, required: ['status'] },
  ide_session: { properties: { duration_ms: nonNegativeInt(DAY_MS) }, required: ['duration_ms'] },
  incident_opened: { properties: { severity: enumOf('sev1', 'sev2', 'sev3', 'sev4', 'sev5', 'low', 'medium', 'high', 'critical') }, required: [] },
};

export const EVENT_TYPES = Object.keys(EVENT_TYPE_RULES);

export interface DroppedProperty {
  field: string;
  reason: string;
}

/**
 * Keeps only allow-listed, valid properties. Dropped keys are reported by name with a reason, never with their value.
 * A key that is not allowed is dropped as `not_allowed` (whatever its value is, it is not stored).
 */
export function filterProperties(eventType: string, properties: Record<string, unknown>): { kept: Record<string, string | number>; dropped: DroppedProperty[]; missing: string | null } {
  const rules = EVENT_TYPE_RULES[eventType];
  const kept: Record<string, string | number> = {};
  const dropped: DroppedProperty[] = [];
  for (const [i, key] of Object.keys(properties).entries()) {
    const check = rules.properties[key];
    if (!check) {
      // A key is named in the answer: one that is itself a secret or an address is named by position instead.
      dropped.push({ field: classifyString(key) === null ? `properties.${key.slice(0, 64)}` : `properties[${i}]`, reason: 'not_allowed' });
      continue;
    }
    const r = check(properties[key]);
    if ('value' in r) kept[key] = r.value;
    else dropped.push({ field: `properties.${key}`, reason: r.reason });
  }
  const missing = rules.required.find((k) => !(k in kept)) ?? null;
  if (eventType === 'test_run_completed' && typeof kept.flaky_count === 'number' && typeof kept.test_count === 'number' && kept.flaky_count > kept.test_count) {
    delete kept.flaky_count;
    dropped.push({ field: 'properties.flaky_count', reason: 'must not exceed test_count' });
  }
  return { kept, dropped, missing };
}
