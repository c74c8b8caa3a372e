/**
 * The privacy filter every way in uses before anything is stored, signed or rendered (ADR 0013): the decide request
 * (over HTTP and from the bus), playbook text placeholders at render time, and UBI events (domain/ubi/privacy.ts holds
 * their allow-list). Pure and sandbox-safe: the decision workflow renders with it.
 *
 * - A required identifier (tenant_id, actor_id, signal.signal_id) that looks like a person's address or a secret
 *   refuses the request: without it there is nothing to decide, and it would be stored as it is.
 * - An optional value (repo_id, branch, file_path, a signal payload value) that looks like a secret, an e-mail address,
 *   code, free text or holds control characters is dropped, and its field named in `dropped_fields`, never its value.
 * - With data governance configured, its `allowed_fields` limit the optional fields kept and its `pii_fields` are
 *   masked.
 */
import type { DecideRequest } from '../model/decision';
import type { Scalar } from '../model/common';
import { classifyString, namesPersonOrSecret, type PrivacyFinding } from './detectors';

/** What a masked value reads as (data governance `pii_fields`). */
export const PII_MASK = '[redacted-pii]';
/** The degraded reason of a decision whose request lost fields to the filter. */
export const PRIVACY_FIELDS_DROPPED = 'privacy_fields_dropped';
/** What a placeholder whose value the filter removes renders as. */
export const REMOVED_PLACEHOLDER = '[removed]';

/** The part of the tenant's data governance config the filter applies (CONTRACT.md: `allowed_fields`, `pii_fields`). */
export interface GovernanceFields {
  /** Null or absent: every field may be kept. Otherwise field paths (`branch`, `signal.payload.failures`), or a prefix (`signal.payload`). */
  allowed_fields?: readonly string[] | null;
  /** Field names (`branch`) or paths (`signal.payload.run_id`) whose values are masked. */
  pii_fields?: readonly string[];
}

export type DecideFilterResult =
  | { ok: true; request: DecideRequest; dropped_fields: string[] }
  | { ok: false; field: string; reason: PrivacyFinding };

function isAllowed(path: string, governance: GovernanceFields | undefined): boolean {
  const allowed = governance?.allowed_fields;
  if (allowed === null || allowed === undefined) return true;
  return allowed.some((a) => a === path || path.startsWith(`${a}.`));
}

function isPii(path: string, governance: GovernanceFields | undefined): boolean {
  const pii = governance?.pii_fields ?? [];
  const name = path.slice(path.lastIndexOf('.') + 1);
  return pii.some((p) => p === path || p === name);
}

/** A value to keep as it is, masked, or to drop; strings are classified, other scalars are never sensitive. */
function verdict(path: string, value: Scalar, governance: GovernanceFields | undefined): { keep: Scalar } | 'drop' {
  if (!isAllowed(path, governance)) return 'drop';
  if (typeof value === 'string' && classifyString(value) !== null) return 'drop';
  return isPii(path, governance) ? { keep: PII_MASK } : { keep: value };
}

/** Payload keys are short identifiers; one that is itself sensitive is named by position, not by itself. */
function payloadPath(key: string, index: number): string {
  return classifyString(key) === null ? `signal.payload.${key}` : `signal.payload[${index}]`;
}

export function filterDecideRequest(request: DecideRequest, governance?: GovernanceFields): DecideFilterResult {
  const ids: Array<[string, string | undefined]> = [['tenant_id', request.tenant_id], ['actor_id', request.actor_id], ['signal.signal_id', request.signal?.signal_id]];
  for (const [field, value] of ids) {
    const finding = value === undefined ? null : classifyString(value);
    if (namesPersonOrSecret(finding)) return { ok: false, field, reason: finding as PrivacyFinding };
  }
  const dropped: string[] = [];
  const out: DecideRequest = { ...request };
  for (const field of ['repo_id', 'branch', 'file_path'] as const) {
    const value = request[field];
    if (value === undefined) continue;
    const v = verdict(field, value, governance);
    if (v === 'drop') {
      delete out[field];
      dropped.push(field);
    } else out[field] = v.keep as string;
  }
  if (request.signal) {
    const payload: Record<string, Scalar> = {};
    Object.entries(request.signal.payload).forEach(([key, value], i) => {
      const path = payloadPath(key, i);
      const v = path === `signal.payload.${key}` ? verdict(path, value, governance) : 'drop';
      if (v === 'drop') dropped.push(path);
      else payload[key] = v.keep;
    });
    out.signal = { ...request.signal, payload };
  }
  return { ok: true, request: out, dropped_fields: dropped };
}

/** A template value that would show something the filter keeps out renders as REMOVED_PLACEHOLDER instead. */
export function filterPlaceholderValue(value: string | number | boolean | null | undefined): string | number | boolean | null | undefined {
  return typeof value === 'string' && classifyString(value) !== null ? REMOVED_PLACEHOLDER : value;
}

const PLACEHOLDERS = /\{\{[^}]*\}\}/g;

/**
 * Text an admin writes (playbook names, titles, bodies): sentences are its point, so free text is allowed, but a
 * secret, an address, code or control characters are not, and the write is refused. Placeholders are read as words.
 * A one-line text (a name, a title) refuses line breaks too.
 */
export function authoredTextProblem(text: string, opts: { oneLine?: boolean } = {}): string | null {
  if (opts.oneLine && /[\r\n]/.test(text)) return 'must be one line';
  const finding = classifyString(text.replace(PLACEHOLDERS, 'x'));
  return finding === null || finding === 'free_text' ? null : refusalMessage(finding);
}

/**
 * A playbook condition's value is compared with request values the filter has already cleaned, so one the filter
 * would drop can never match and is refused. A regular expression (`matches`) may look like code, but it may not be a
 * secret, an address or hold control characters.
 */
export function conditionValueProblem(value: string, opts: { pattern?: boolean } = {}): string | null {
  const finding = classifyString(value);
  if (finding === null) return null;
  if (opts.pattern && !namesPersonOrSecret(finding) && finding !== 'control_characters') return null;
  return refusalMessage(finding);
}

/** The field names a privacy refusal reports: the field and why, never the value. */
export function refusalMessage(reason: PrivacyFinding): string {
  return `looks like ${reason.replace(/_/g, ' ')}; it is not accepted`;
}
