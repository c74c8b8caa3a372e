/**
 * Mentor actions (FR-5): the evidence an action rests on, the rationale every mentor action carries, the minimised
 * prompt sent to the LLM gateway, and the checks its answer must pass before it replaces the playbook's template.
 * Pure: the decide workflow attaches the template rationale in its sandbox; the enrichment activity runs the rest.
 */
import type { Severity, Surface } from '../model/common';
import type { Rendered } from '../model/decision';
import type { RecentSignal, Signal } from '../model/signal';
import { renderAction } from '../rendering';

export interface Evidence {
  /** Short id the prompt and the generated claims use (E1, E2, …). */
  id: string;
  link: string;
  /** What the prompt may say about it: kinds, severities and numbers, never free text from the request. */
  description: string;
}

export interface Rationale {
  evidence_links: string[];
  baseline_comparison: string | null;
  why_relevant: string;
}

export type EnrichmentStatus = 'pending' | 'enriched' | 'template';

export interface Enrichment {
  status: EnrichmentStatus;
  /** Why the template stands (llm_disabled, llm_gateway_unset, llm_gateway_timeout, llm_output_blocked, …). */
  reason: string | null;
  redactions?: unknown;
  dropped_claims?: number;
}

export interface MentorContext {
  actor_id: string;
  actor_type: string;
  surface: string;
  file_path: string | null;
  signal: Signal | null;
  recent_signals: RecentSignal[];
  playbook_id: string;
  playbook_version: number;
  playbook_name: string;
}

/** Payload keys whose string values name a run the executor or a reader can follow. */
const RUN_KEYS = ['run_id', 'build_id', 'pipeline_id', 'job_id', 'workflow_run_id'];
const SAFE_RUN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function numericFacts(payload: Record<string, unknown> | undefined): string {
  if (!payload) return '';
  const facts = Object.entries(payload)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => `${k}=${String(v)}`);
  return facts.length ? `; facts: ${facts.join(', ')}` : '';
}

/** The signals, runs, files and the playbook a mentor action rests on, numbered for citation. */
export function collectEvidence(ctx: MentorContext): Evidence[] {
  const items: Array<Omit<Evidence, 'id'>> = [];
  const s = ctx.signal;
  if (s) {
    items.push({
      link: `signal:${s.source}/${s.signal_id}`,
      description: `the triggering ${s.kind} signal from ${s.source}, severity ${s.severity}${numericFacts(s.payload)}`,
    });
    for (const key of RUN_KEYS) {
      const v = s.payload?.[key];
      if (typeof v === 'string' && SAFE_RUN_ID.test(v)) items.push({ link: `run:${v}`, description: `the ${key.replace(/_id$/, '')} the signal refers to` });
    }
  }
  for (const r of ctx.recent_signals.slice(0, 5)) {
    items.push({
      link: `ubi-signal:${r.signal_id}`,
      description: `a recent behavioural signal: ${r.dimension}/${r.signal_type}, severity ${r.severity}, score ${round(r.score)} against the actor's baseline`,
    });
  }
  // The file is evidence for the reader; the prompt only learns that there is one, never its path.
  if (ctx.file_path) items.push({ link: `file:${ctx.file_path}`, description: 'the file the actor is working on (path withheld)' });
  items.push({ link: `playbook:${ctx.playbook_id}@v${ctx.playbook_version}`, description: `the tenant playbook "${ctx.playbook_name}"` });
  return items.map((e, i) => ({ ...e, id: `E${i + 1}` }));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The strongest recent deviation from the actor's baseline, in words; null when UBI has nothing to compare. */
export function baselineComparison(recent: RecentSignal[]): string | null {
  if (recent.length === 0) return null;
  const top = [...recent].sort((a, b) => Math.abs(b.score) - Math.abs(a.score) || (a.signal_id < b.signal_id ? -1 : 1))[0];
  const direction = top.score >= 0 ? 'above' : 'below';
  return `${top.dimension}/${top.signal_type} is ${Math.abs(round(top.score))} ${direction} the actor's baseline (${recent.length} recent signal${recent.length === 1 ? '' : 's'})`;
}

export function templateWhyRelevant(ctx: MentorContext): string {
  const trigger = ctx.signal ? `a ${ctx.signal.severity} ${ctx.signal.kind} signal from ${ctx.signal.source}` : `a ${ctx.surface} request`;
  return `The playbook "${ctx.playbook_name}" matched ${trigger} for this ${ctx.surface} session.`;
}

export function templateRationale(ctx: MentorContext): Rationale {
  return {
    evidence_links: collectEvidence(ctx).map((e) => e.link),
    baseline_comparison: baselineComparison(ctx.recent_signals),
    why_relevant: templateWhyRelevant(ctx),
  };
}

export const MAX_CLAIMS = 5;
export const MENTOR_MAX_TOKENS = 400;

/**
 * The prompt sent to the gateway (NFR-3): the playbook's own wording (admin text, placeholders unfilled), the
 * actor id and type, the surface, and the evidence as kinds, severities and numbers. Never source code, file paths,
 * branch names, payload strings or anything else a request carried as free text.
 */
export function buildMentorPrompt(ctx: MentorContext, template: { title: string; body: string }, evidence: Evidence[]): string {
  const lines = [
    'You write one short, respectful mentoring suggestion for a software developer. It is a suggestion, never an order.',
    `Actor: ${ctx.actor_id} (${ctx.actor_type}), shown on: ${ctx.surface}.`,
    `Playbook guidance (template, placeholders unfilled): ${template.title} / ${template.body}`,
    'Evidence you may cite, by id:',
    ...evidence.map((e) => `${e.id}: ${e.description}`),
    'Answer with JSON only: {"title": string, "claims": [{"text": string, "evidence": ["E1"]}], "why_relevant": string}.',
    `At most ${MAX_CLAIMS} claims. Every claim must cite at least one evidence id from the list. Do not include code.`,
  ];
  return lines.join('\n');
}

export interface GatewayAnswer {
  text?: unknown;
  safety?: { status?: unknown; risk_flags?: unknown; redaction_summary?: unknown };
}

export type Interpretation =
  | { kind: 'enriched'; title: string; body: string; rationale: Rationale; redactions: unknown; dropped_claims: number }
  | { kind: 'fallback'; reason: string };

function parseJsonText(text: string): unknown {
  const trimmed = text.trim().replace(/^```(?:json)?\s*/i, '').replace(/\s*```$/, '');
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** Braces would be read as template placeholders when rendered; generated text has none. */
function clean(text: string, max: number): string {
  return text.replace(/\{\{|\}\}/g, '').replace(/\s+/g, ' ').trim().slice(0, max);
}

/**
 * The gateway's answer, enforced: a blocked answer or any risk flag drops the enrichment; the gateway's redactions
 * stay as they are (its text is already redacted) and are recorded; a claim that cites no known evidence is dropped,
 * and with no claim left the template stands.
 */
export function interpretGatewayAnswer(answer: GatewayAnswer, evidence: Evidence[], fallback: Rationale): Interpretation {
  const safety = answer?.safety;
  if (!safety || (safety.status !== 'pass' && safety.status !== 'blocked')) return { kind: 'fallback', reason: 'llm_safety_missing' };
  if (safety.status === 'blocked') return { kind: 'fallback', reason: 'llm_output_blocked' };
  if (Array.isArray(safety.risk_flags) && safety.risk_flags.length > 0) return { kind: 'fallback', reason: 'llm_risk_flagged' };
  if (typeof answer.text !== 'string') return { kind: 'fallback', reason: 'llm_invalid_response' };
  const parsed = parseJsonText(answer.text) as { title?: unknown; claims?: unknown; why_relevant?: unknown } | undefined;
  if (!parsed || typeof parsed !== 'object' || !Array.isArray(parsed.claims)) return { kind: 'fallback', reason: 'llm_invalid_response' };

  const byId = new Map(evidence.map((e) => [e.id, e]));
  const kept: Array<{ text: string; evidence: Evidence[] }> = [];
  let dropped = 0;
  for (const claim of parsed.claims.slice(0, MAX_CLAIMS) as Array<{ text?: unknown; evidence?: unknown }>) {
    const cited = Array.isArray(claim?.evidence) ? claim.evidence.filter((id): id is string => typeof id === 'string' && byId.has(id)) : [];
    const text = typeof claim?.text === 'string' ? clean(claim.text, 500) : '';
    if (cited.length === 0 || !text) {
      dropped++;
      continue;
    }
    kept.push({ text, evidence: cited.map((id) => byId.get(id) as Evidence) });
  }
  dropped += Math.max(0, parsed.claims.length - MAX_CLAIMS);
  if (kept.length === 0) return { kind: 'fallback', reason: 'llm_claims_without_evidence' };

  const links = [...new Set(kept.flatMap((k) => k.evidence.map((e) => e.link)))];
  const title = typeof parsed.title === 'string' && clean(parsed.title, 200) ? clean(parsed.title, 200) : null;
  const why = typeof parsed.why_relevant === 'string' && clean(parsed.why_relevant, 500) ? clean(parsed.why_relevant, 500) : fallback.why_relevant;
  return {
    kind: 'enriched',
    title: title ?? '',
    body: kept.map((k) => k.text).join(' '),
    rationale: { evidence_links: links, baseline_comparison: fallback.baseline_comparison, why_relevant: why },
    redactions: safety.redaction_summary ?? null,
    dropped_claims: dropped,
  };
}

/** Why a gateway call did not give an answer, as a degraded reason. */
export function gatewayFailureReason(kind: 'timeout' | 'circuit_open' | 'network' | 'http' | 'invalid_response' | 'unset'): string {
  switch (kind) {
    case 'timeout':
      return 'llm_gateway_timeout';
    case 'circuit_open':
      return 'llm_gateway_circuit_open';
    case 'invalid_response':
      return 'llm_gateway_invalid_response';
    case 'unset':
      return 'llm_gateway_unset';
    default:
      return 'llm_gateway_unavailable';
  }
}


/**
 * The surfaces' payload for generated text. Generated text is untrusted like any request value: it goes through the
 * renderer as placeholder values, so it is Markdown-escaped for PR and CI and never read as template syntax.
 */
export function renderEnrichedPayload(args: {
  title: string;
  body: string;
  surfaces: Surface[];
  severity: Severity;
  playbookId: string;
  playbookVersion: number;
  actionId: string;
}): { title: string; body: string; rendered: Rendered } {
  const values = Object.create(null) as Record<string, string>;
  values['generated.title'] = args.title;
  values['generated.body'] = args.body;
  return renderAction({
    type: 'mentor',
    title: '{{generated.title}}',
    body: '{{generated.body}}',
    values,
    severity: args.severity,
    surfaces: args.surfaces,
    playbookId: args.playbookId,
    playbookVersion: args.playbookVersion,
    actionId: args.actionId,
  });
}
