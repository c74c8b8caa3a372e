/**
 * The one detector set of the privacy filter (NFR-3, data minimisation; ADR 0013), for every way data comes in: UBI
 * events, the decide request, signals from the bus, playbook text placeholders. Plain functions, no zod: it runs for
 * every UBI event on the ingestion hot path. It classifies string values that must never be stored: secrets or tokens
 * (gitleaks' maintained rule set, vendored, plus our own short list and an entropy test), e-mail addresses, source
 * code, free text, and control or bidi characters that can hide or reorder what a value says.
 */
import { GITLEAKS_RULES } from './gitleaks-rules';

export type PrivacyFinding = 'secret_or_token' | 'email_address' | 'source_code' | 'free_text' | 'control_characters';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
/**
 * Shapes gitleaks does not cover, or covers only at lengths we want to catch earlier (short test tokens, a bare PEM
 * header without its body, `password=` style assignments of any length).
 */
const OWN_SECRETS = [
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
/** Our shapes as one alternation: one regex pass instead of ten on the hot path. */
const OWN_SECRET = new RegExp(OWN_SECRETS.map((re) => `(?:${re.source})`).join('|'), 'i');

/** gitleaks' rules, compiled once. A rule runs only when one of its keywords occurs (gitleaks' own prefilter). */
const VENDORED = GITLEAKS_RULES.map((r) => ({ re: new RegExp(r.source, r.flags), entropy: r.entropy, group: r.group, keywords: r.keywords }));
/**
 * Every rule's keywords in one alternation: a value holding none of them (nearly every value) is cleared by one regex
 * pass instead of ~300 `includes` (12 µs a value, most of the filter's cost per UBI event). Only when every rule has
 * keywords; a rule without any must always run.
 */
const ANY_KEYWORD = VENDORED.every((r) => r.keywords.length > 0)
  ? new RegExp([...new Set(VENDORED.flatMap((r) => r.keywords))].map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))
  : undefined;

const CODE_HINTS = [
  /[{};]\s*$/m,
  /\b(function|def|class|import|return|const|let|var|public|private|package|#include|SELECT|INSERT)\b.*[({=;:]/,
  /=>|\|\||&&|::|\+\+|!==|===|<\/?[a-z]+>/,
  /\w+\([^)]*\)\s*[{;]/,
];
/** C0/C1 controls (tab, CR and LF are free text's business), lone surrogates, bidi overrides and isolates, BOM. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point of this pattern
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Shannon entropy in bits per character: long, dense, random-looking strings are treated as secrets. */
export function entropy(s: string): number {
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

function vendoredRuleMatches(s: string): boolean {
  const lower = s.toLowerCase();
  if (ANY_KEYWORD && !ANY_KEYWORD.test(lower)) return false;
  for (const rule of VENDORED) {
    if (rule.keywords.length > 0 && !rule.keywords.some((k) => lower.includes(k))) continue;
    const m = rule.re.exec(s);
    if (!m) continue;
    if (rule.entropy === undefined) return true;
    const secret = m[rule.group ?? 1] ?? m[0];
    if (entropy(secret) >= rule.entropy) return true;
  }
  return false;
}

export function looksLikeSecret(s: string): boolean {
  if (OWN_SECRET.test(s) || vendoredRuleMatches(s)) return true;
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

export function hasControlCharacters(s: string): boolean {
  return CONTROL.test(s);
}

const CAN_HIDE_NOTHING = /^[A-Za-z0-9._-]{0,15}$/;

/** The first thing a string value must not be, or null when it is clean. Order: the most sensitive finding first. */
export function classifyString(s: string): PrivacyFinding | null {
  // Most values are short plain identifiers ("pr-1234", "main"): too short for a token, no @, no code, no spaces.
  if (CAN_HIDE_NOTHING.test(s)) return null;
  if (looksLikeSecret(s)) return 'secret_or_token';
  if (looksLikeEmail(s)) return 'email_address';
  if (hasControlCharacters(s)) return 'control_characters';
  if (looksLikeCode(s)) return 'source_code';
  if (looksLikeFreeText(s)) return 'free_text';
  return null;
}

/** Findings that make a value an identifier of a person or a credential: never kept, whatever the field. */
export function namesPersonOrSecret(finding: PrivacyFinding | null): boolean {
  return finding === 'secret_or_token' || finding === 'email_address';
}
