/**
 * Playbook templates: `{{placeholder}}` substitution from the decision context and the signal.
 * Kept deliberately logic-free (no conditionals, no loops) so a template can never execute anything.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g;

/** Placeholders a template may use; `signal.payload.<key>` reaches into the signal payload (the OpenAPI lists these). */
export const TEMPLATE_PLACEHOLDERS = ['actor_id', 'actor_type', 'repo_id', 'branch', 'file_path', 'surface', 'signal.kind', 'signal.source', 'signal.severity', 'signal.occurred_at', 'signal.signal_id', 'signal.payload.<key>'];
const ALLOWED = /^(actor_id|actor_type|repo_id|branch|file_path|surface|signal\.(kind|source|severity|occurred_at|signal_id)|signal\.payload\.[A-Za-z0-9_]+)$/;

export function listPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

export function findUnknownPlaceholders(template: string): string[] {
  return listPlaceholders(template).filter((p) => !ALLOWED.test(p));
}

export type TemplateValues = Record<string, string | number | boolean | null | undefined>;

/** Substitutes placeholders; a value that is missing renders as "unknown" rather than leaking template syntax. */
export function fillTemplate(template: string, values: TemplateValues, escape: (s: string) => string = (s) => s): string {
  return template.replace(PLACEHOLDER, (_m, key: string) => {
    const v = values[key];
    return escape(v === undefined || v === null || v === '' ? 'unknown' : String(v));
  });
}

/**
 * Mirror actions reflect, they never prescribe (FR-4, FR-10). These are the imperative and judgemental forms a
 * mirror text may not use; a playbook whose mirror action contains one is refused when it is written.
 */
const PRESCRIPTIVE = [
  /\byou\s+(should|must|need to|have to|ought to|had better)\b/i,
  /\b(should|must|ought to)\b/i,
  /\b(please|consider|make sure|don't forget|remember to|try to|fix|stop|avoid)\b/i,
  /\b(bad|poor|lazy|careless|sloppy|unacceptable|shame)\b/i,
  /!{1,}/,
];

export function findPrescriptiveLanguage(text: string): string[] {
  const found: string[] = [];
  for (const re of PRESCRIPTIVE) {
    const m = text.match(re);
    if (m) found.push(m[0]);
  }
  return found;
}
