/**
 * The privacy filter (NFR-3, data minimisation): plain functions, no zod, because it runs for every event on the
 * ingestion hot path. It classifies string values that must never be stored — source code, e-mail addresses, secrets
 * or tokens, free text — and holds the per-event-type allow-list of properties with a validator for each.
 */

export type PrivacyFinding = 'source_code' | 'email_address' | 'secret_or_token' | 'free_text';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
/** Well-known token shapes: GitHub, GitLab, Slack, AWS, Google, OpenAI/Stripe style keys, JWTs, PEM blocks. */
const KNOWN_SECRETS = [
  /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/,
  /\bglpat-[A-Za-z0-9_-]{16,}/,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
  /\bAIza[0-9A-Za-z_-]{30,}/,
  /\b(sk|pk|rk)[-_](live|test|proj)?[-_]?[A-Za-z0-9]{16,}/,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./,
  /-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)/,
  /(password|passwd|secret|token|api[_-]?key)\s*[:=]/i,
];
const CODE_HINTS = [
  /[{};]\s*$/m,
  /\b(function|def|class|import|return|const|let|var|public|private|package|#include|SELECT|INSERT)\b.*[({=;:]/,
  /=>|\|\||&&|::|\+\+|!==|===|<\/?[a-z]+>/,
  /\w+\([^)]*\)\s*[{;]/,
];

/** Shannon entropy in bits per character: long, dense, random-looking strings are treated as secrets. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export function looksLikeEmail(s: string): boolean {
  return s.includes('@') && EMAIL.test(s);
}

/** The known shapes as one alternation: one regex pass instead of ten on the hot path. */
const KNOWN_SECRET = new RegExp(KNOWN_SECRETS.map((re) => `(?:${re.source})`).join('|'), 'i');
const CAN_HIDE_NOTHING = /^[A-Za-z0-9._-]{0,15}$/;

export function looksLikeSecret(s: string): boolean {
  if (KNOWN_SECRET.test(s)) return true;
  // A long run of base64 characters mixing upper case, lower case and digits, with high entropy. Hex strings (UUIDs,
  // commit SHAs) are ordinary identifiers and stay clean: single-case hex is not treated as a secret.
  const runs = s.match(/[A-Za-z0-9+/_=-]{32,}/g) ?? [];
  return runs.some((r) => /\d/.test(r) && /[a-z]/.test(r) && /[A-Z]/.test(r) && entropy(r) > 4.0);
}

export function looksLikeCode(s: string): boolean {
  return CODE_HINTS.some((re) => re.test(s));
}

/** Three or more words, or anything with line breaks: a sentence, a commit message, a comment body. */
export function looksLikeFreeText(s: string): boolean {
  return /[\r\n]/.test(s) || s.trim().split(/\s+/).length >= 3;
}

/** The first thing a string value must not be, or null when it is clean. Order: the most sensitive finding first. */
export function classifyString(s: string): PrivacyFinding | null {
  // Most values are short plain identifiers ("pr-1234", "main"): too short for a token, no @, no code, no spaces.
  if (CAN_HIDE_NOTHING.test(s)) return null;
  if (looksLikeSecret(s)) return 'secret_or_token';
  if (looksLikeEmail(s)) return 'email_address';
  if (looksLikeCode(s)) return 'source_code';
  if (looksLikeFreeText(s)) return 'free_text';
  return null;
}

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
  for (const key of Object.keys(properties)) {
    const check = rules.properties[key];
    if (!check) {
      dropped.push({ field: `properties.${key.slice(0, 64)}`, reason: 'not_allowed' });
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
