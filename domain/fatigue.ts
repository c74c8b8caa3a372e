/**
 * The fatigue rule: at most `max` nudges per actor in a sliding window, and a per-playbook cool-down. The in-memory
 * store and the Redis Lua script both implement exactly this function, so it is the one place the rule is read.
 */
import type { SuppressionReason } from './model/decision';

export interface FatigueState {
  /** One entry per granted nudge; `member` is unique per decision and candidate, like a Redis sorted-set member. */
  nudges: Array<{ at: number; member: string }>;
  cooldowns: Record<string, { until: number; decision_id: string }>;
}

export type FatigueVerdict = 'granted' | 'cooldown' | 'fatigue_limit';

export interface ReserveRequest {
  decision_id: string;
  now: number;
  window_ms: number;
  max: number;
  /** In priority order: earlier candidates take the remaining slots first. */
  candidates: Array<{ key: string; cooldown_ms: number }>;
}

export const FATIGUE_VERDICT_REASON: Record<Exclude<FatigueVerdict, 'granted'>, SuppressionReason> = {
  cooldown: 'cooldown',
  fatigue_limit: 'fatigue_limit',
};

export function emptyFatigueState(): FatigueState {
  return { nudges: [], cooldowns: {} };
}

export function reserveNudges(state: FatigueState, req: ReserveRequest): { state: FatigueState; verdicts: FatigueVerdict[]; remaining: number } {
  const { now, decision_id } = req;
  // "<=" so a nudge exactly window_ms old has left the window (ZREMRANGEBYSCORE -inf now-window in Redis).
  const nudges = state.nudges.filter((n) => n.at > now - req.window_ms).map((n) => ({ ...n }));
  // Expired cool-downs are dropped, as Redis would expire their keys; they could never block anything again.
  const cooldowns: FatigueState['cooldowns'] = {};
  for (const [key, value] of Object.entries(state.cooldowns)) if (value.until > now) cooldowns[key] = { ...value };

  let used = nudges.length;
  const verdicts = req.candidates.map((candidate, index): FatigueVerdict => {
    const cooldown = Object.hasOwn(cooldowns, candidate.key) ? cooldowns[candidate.key] : undefined;
    // A retry of the same decision (an activity retried after its reservation landed) is not blocked by the
    // cool-down it set itself.
    if (candidate.cooldown_ms > 0 && cooldown && cooldown.until > now && cooldown.decision_id !== decision_id) return 'cooldown';
    if (used >= req.max) return 'fatigue_limit';
    used++;
    const member = `${decision_id}:${index}`;
    // Like ZADD, re-adding an existing member moves it rather than duplicating it.
    const existing = nudges.findIndex((n) => n.member === member);
    if (existing >= 0) nudges.splice(existing, 1);
    nudges.push({ at: now, member });
    if (candidate.cooldown_ms > 0) cooldowns[candidate.key] = { until: now + candidate.cooldown_ms, decision_id };
    return 'granted';
  });
  // What the actor has left in this window after this decision (FR-10 "why this nudge": the remaining nudge budget).
  return { state: { nudges, cooldowns }, verdicts, remaining: Math.max(0, req.max - used) };
}
