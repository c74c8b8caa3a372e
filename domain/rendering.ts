/**
 * Turns a playbook action's templates into what each surface shows. Values come from the request (branch names,
 * file paths, signal payloads) and are attacker-controlled, so they are escaped wherever the output is Markdown.
 */
import type { ActionType, Severity, Surface } from './model/common';
import type { IdeCard, Rendered } from './model/decision';
import type { MatchInput } from './playbook-matching';
import { fillTemplate, type TemplateValues } from './templates';
import { filterPlaceholderValue } from './privacy/privacy-filter';

/** Every ASCII punctuation CommonMark/GFM gives meaning to in inline text, plus & so entities like &#64; stay literal. */
const MARKDOWN_SPECIAL = /[\\`*_{}[\]()#+\-.!|<>~&$]/g;
/** C0/C1 control characters and Unicode bidi overrides, which can reorder how a comment reads. */
// eslint-disable-next-line no-control-regex -- stripping control characters is the point of this pattern
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const LINE_BREAKS = /[\t\r\n]+/g;
/** Zero-width joiner after "@" keeps the text readable but stops GitHub/Slack from resolving a mention. */
const ZWJ = '\u200D';

/**
 * Escapes a value for inline Markdown. Line breaks become spaces (a value must not start a new block such as a
 * heading or a list), other control characters are dropped, "<" and ">" are escaped so no HTML tag forms, and
 * "@" is broken so a branch called "@everyone" cannot ping anyone.
 */
export function escapeMarkdown(s: string): string {
  return s
    .replace(LINE_BREAKS, ' ')
    .replace(CONTROL, '')
    .replace(MARKDOWN_SPECIAL, (c) => `\\${c}`)
    .replace(/@/g, `@${ZWJ}`);
}

/**
 * The placeholder values of domain/templates.ts, keyed exactly as its allow-list names them. Each passes the privacy
 * filter (ADR 0013) once more at render time: whatever reached the decision some other way, a secret, an address, code
 * or free text is never written into a card, a PR comment or a CI summary.
 */
export function templateValues(input: MatchInput & { actor_id: string }): TemplateValues {
  // No prototype: a placeholder named like an Object.prototype member must read as missing, not as a function.
  const values: TemplateValues = Object.create(null) as TemplateValues;
  values.actor_id = input.actor_id;
  values.actor_type = input.actor_type;
  values.repo_id = input.repo_id ?? null;
  values.branch = input.branch ?? null;
  values.file_path = input.file_path ?? null;
  values.surface = input.surface;
  const signal = input.signal;
  values['signal.kind'] = signal?.kind ?? null;
  values['signal.source'] = signal?.source ?? null;
  values['signal.severity'] = signal?.severity ?? null;
  values['signal.occurred_at'] = signal?.occurred_at ?? null;
  values['signal.signal_id'] = signal?.signal_id ?? null;
  if (signal?.payload) {
    for (const [key, value] of Object.entries(signal.payload)) values[`signal.payload.${key}`] = value;
  }
  for (const key of Object.keys(values)) values[key] = filterPlaceholderValue(values[key]);
  return values;
}

const TONE: Record<ActionType, IdeCard['tone']> = { mirror: 'neutral', mentor: 'guidance', multiplier: 'action' };

/**
 * Every card offers snooze and "not useful" next to dismiss (FR-10). `records` is the outcome body (without its
 * action_id) the IDE posts to `POST /v1/mmm/decisions/{id}/outcomes` for the button; consent has its own route.
 */
const SNOOZE = { id: 'snooze', label: 'Snooze', records: { outcome: 'snoozed' } } as const;
const NOT_USEFUL = { id: 'not_useful', label: 'Not useful', records: { outcome: 'dismissed', reason: 'not_useful' } } as const;
const BUTTONS: Record<ActionType, IdeCard['buttons']> = {
  mirror: [{ id: 'dismiss', label: 'Dismiss', records: { outcome: 'dismissed' } }, SNOOZE, NOT_USEFUL],
  mentor: [
    { id: 'accept', label: 'Helpful', records: { outcome: 'accepted' } },
    { id: 'dismiss', label: 'Dismiss', records: { outcome: 'dismissed' } },
    SNOOZE,
    NOT_USEFUL,
  ],
  multiplier: [
    { id: 'consent', label: 'Allow' },
    { id: 'dismiss', label: 'Not now', records: { outcome: 'dismissed' } },
    SNOOZE,
    NOT_USEFUL,
  ],
};

/**
 * Footer wording per type. The mirror line must itself pass findPrescriptiveLanguage: a mirror only reflects,
 * and the footer is part of the mirror.
 */
const FOOTER: Record<ActionType, { label: string; note: string }> = {
  mirror: { label: 'Mirror', note: 'a reflection of recent activity, no action requested' },
  mentor: { label: 'Mentor', note: 'guidance based on recent activity' },
  multiplier: { label: 'Multiplier', note: 'runs only with your consent' },
};

/** Ids end up inside a code span and an HTML comment; keep them to the id alphabet so neither can be closed early. */
function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9._:@-]/g, '');
}

/** Headings and bold text are one line; a multi-line admin title would otherwise spill into the body. */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function footerLine(type: ActionType, playbookId: string, playbookVersion: number): string {
  const { label, note } = FOOTER[type];
  return `${label} · playbook \`${safeId(playbookId)}\` v${playbookVersion} · ${note}`;
}

export interface RenderActionArgs {
  type: ActionType;
  title: string;
  body: string;
  values: TemplateValues;
  severity: Severity;
  surfaces: Surface[];
  playbookId: string;
  playbookVersion: number;
  actionId: string;
}

export function renderAction(args: RenderActionArgs): { title: string; body: string; rendered: Rendered } {
  // Plain text for the IDE card, the alert and the stored payload: those surfaces do not interpret Markdown.
  const title = fillTemplate(args.title, args.values);
  const body = fillTemplate(args.body, args.values);
  const rendered: Rendered = {};
  const needsMarkdown = args.surfaces.includes('pr') || args.surfaces.includes('ci');
  const mdTitle = needsMarkdown ? oneLine(fillTemplate(args.title, args.values, escapeMarkdown)) : '';
  const mdBody = needsMarkdown ? fillTemplate(args.body, args.values, escapeMarkdown) : '';
  const footer = `<sub>${footerLine(args.type, args.playbookId, args.playbookVersion)}</sub>`;

  for (const surface of args.surfaces) {
    switch (surface) {
      case 'ide':
        rendered.ide = {
          kind: 'card',
          title,
          body,
          severity: args.severity,
          tone: TONE[args.type],
          buttons: BUTTONS[args.type].map((b) => (b.records ? { ...b, records: { ...b.records } } : { ...b })),
        };
        break;
      case 'pr':
        // The trailing marker lets the PR surface find and update its own comment instead of posting another.
        rendered.pr = `**${mdTitle}**\n\n${mdBody}\n\n${footer}\n\n<!-- mmm-action:${safeId(args.actionId)} -->`;
        break;
      case 'ci':
        rendered.ci = `### ${mdTitle}\n\n${mdBody}\n\n${footer}\n`;
        break;
      case 'alert':
        rendered.alert = { title, text: body, severity: args.severity };
        break;
    }
  }
  return { title, body, rendered };
}
