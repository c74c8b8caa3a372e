/**
 * Which published playbooks apply to a request: trigger, actor type and conditions. Pure, so the decide workflow
 * can run it in its sandbox and a test can pin every rule.
 */
import type { ActorType, Scalar, Surface } from './model/common';
import { REQUEST_TRIGGER_KIND, SEVERITY_RANK } from './model/constants';
import type { Condition, PlaybookInput, PublishedPlaybook, Trigger } from './model/playbook';
import type { Signal } from './model/signal';

export interface MatchInput {
  actor_type: ActorType;
  surface: Surface;
  repo_id?: string | null;
  branch?: string | null;
  file_path?: string | null;
  signal?: Signal | null;
}

export interface MatchedPlaybook {
  playbook_id: string;
  version: number;
  definition: PlaybookInput;
  /** The first trigger that fired, kept so the receipt can say why the playbook applied. */
  trigger: Trigger;
}

const PAYLOAD_PREFIX = 'signal.payload.';

/**
 * The value a condition field names, or undefined when the request does not carry it. Null request fields count as
 * missing; a payload key explicitly set to null is a present null, so `eq null` can test for it.
 */
export function readField(input: MatchInput, field: string): Scalar | undefined {
  switch (field) {
    case 'actor_type':
      return input.actor_type;
    case 'surface':
      return input.surface;
    case 'repo_id':
      return input.repo_id ?? undefined;
    case 'branch':
      return input.branch ?? undefined;
    case 'file_path':
      return input.file_path ?? undefined;
    case 'signal.kind':
      return input.signal?.kind;
    case 'signal.source':
      return input.signal?.source;
    case 'signal.severity':
      return input.signal?.severity;
  }
  if (field.startsWith(PAYLOAD_PREFIX) && input.signal) {
    const key = field.slice(PAYLOAD_PREFIX.length);
    const payload = input.signal.payload;
    // Own keys only: "signal.payload.constructor" must not reach Object.prototype.
    if (payload && Object.hasOwn(payload, key)) return payload[key];
  }
  return undefined;
}

/** `matches` reads at most this many characters: with the dialect of regexProblem() it bounds backtracking. */
export const MATCHES_MAX_INPUT = 256;

function regexMatches(pattern: string, value: string): boolean {
  try {
    // No flags: a 'g' regex keeps lastIndex between calls and would make the result depend on history.
    return new RegExp(pattern).test(value.slice(0, MATCHES_MAX_INPUT));
  } catch {
    // Stored playbooks are validated on write; a pattern this runtime rejects simply does not match.
    return false;
  }
}

export function conditionHolds(input: MatchInput, condition: Condition): boolean {
  const actual = readField(input, condition.field);
  const expected = condition.value;
  switch (condition.op) {
    case 'eq':
      return actual !== undefined && actual === expected;
    case 'neq':
      return actual === undefined || actual !== expected;
    case 'in':
      return actual !== undefined && Array.isArray(expected) && expected.includes(actual);
    case 'matches':
      return typeof actual === 'string' && typeof expected === 'string' && regexMatches(expected, actual);
    case 'gte':
      return typeof actual === 'number' && typeof expected === 'number' && actual >= expected;
    case 'lte':
      return typeof actual === 'number' && typeof expected === 'number' && actual <= expected;
  }
}

export function triggerMatches(trigger: Trigger, input: MatchInput): boolean {
  if (trigger.surfaces && !trigger.surfaces.includes(input.surface)) return false;
  const signal = input.signal;
  // A request without a signal only wakes request triggers; their source and min_severity describe a signal
  // and have nothing to compare against, so they are not consulted.
  if (!signal) return trigger.kind === REQUEST_TRIGGER_KIND;
  if (trigger.kind !== signal.kind) return false;
  if (trigger.source !== undefined && trigger.source !== signal.source) return false;
  if (trigger.min_severity !== undefined && SEVERITY_RANK[signal.severity] < SEVERITY_RANK[trigger.min_severity]) return false;
  return true;
}

/** Matching playbooks in input order, each with the first of its triggers that fired. */
export function matchPlaybooks(playbooks: PublishedPlaybook[], input: MatchInput): MatchedPlaybook[] {
  const matched: MatchedPlaybook[] = [];
  for (const playbook of playbooks) {
    const { definition } = playbook;
    if (definition.actor_types && !definition.actor_types.includes(input.actor_type)) continue;
    const trigger = definition.triggers.find((t) => triggerMatches(t, input));
    if (!trigger) continue;
    if (!(definition.conditions ?? []).every((c) => conditionHolds(input, c))) continue;
    matched.push({ playbook_id: playbook.playbook_id, version: playbook.version, definition, trigger });
  }
  return matched;
}
