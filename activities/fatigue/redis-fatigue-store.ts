import type Redis from 'ioredis';
import type { FatigueVerdict, ReserveRequest } from '../../domain/fatigue';
import type { FatigueStore } from './fatigue-store';

/**
 * The rule of domain/fatigue.ts `reserveNudges`, as one Lua script so Redis runs it atomically. All keys share the
 * `{tenant:actor}` hash tag, so the script stays on one slot in Redis Cluster.
 *
 * KEYS[1] nudge log (sorted set, score = time), KEYS[2] this decision's stored verdicts, KEYS[3..] cool-down keys.
 * ARGV: now, window_ms, max, decision_id, result_ttl_ms, then one cool-down ms per candidate.
 * A retried activity finds KEYS[2] and gets the same verdicts back without reserving twice. The result is the verdicts,
 * then `|` and the nudges left in the window after this decision (results stored before that part was added have none).
 * Cool-downs hold "decision|until" and are judged against the decision's own `now`, like the pure rule, rather than
 * against Redis's clock; the key's TTL only cleans up (it outlives `until`, so the value decides).
 */
const RESERVE_SCRIPT = `
local prior = redis.call('GET', KEYS[2])
if prior then return prior end
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local decision = ARGV[4]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
local out = {}
for i = 3, #KEYS do
  local cooldown = tonumber(ARGV[6 + i - 3])
  local holder = redis.call('GET', KEYS[i])
  local holder_decision, holder_until = nil, 0
  if holder then
    local sep = string.find(holder, '|', 1, true)
    holder_decision = string.sub(holder, 1, sep - 1)
    holder_until = tonumber(string.sub(holder, sep + 1))
  end
  if cooldown > 0 and holder and holder_until > now and holder_decision ~= decision then
    out[#out + 1] = 'cooldown'
  elseif used >= max then
    out[#out + 1] = 'fatigue_limit'
  else
    used = used + 1
    redis.call('ZADD', KEYS[1], now, decision .. ':' .. (i - 3))
    if cooldown > 0 then redis.call('SET', KEYS[i], decision .. '|' .. (now + cooldown), 'PX', cooldown + window) end
    out[#out + 1] = 'granted'
  end
end
redis.call('PEXPIRE', KEYS[1], window)
local result = table.concat(out, ',') .. '|' .. math.max(0, max - used)
redis.call('SET', KEYS[2], result, 'PX', tonumber(ARGV[5]))
return result
`;

/** Verdicts are kept for a day: longer than any activity retry, short enough not to pile up. */
const RESULT_TTL_MS = 24 * 60 * 60 * 1000;

type RedisWithReserve = Redis & {
  mmmReserveNudges(numKeys: number, ...args: Array<string | number>): Promise<string>;
};

export function createRedisFatigueStore(redis: Redis, prefix = 'mmm'): FatigueStore {
  const r = redis as RedisWithReserve;
  if (typeof r.mmmReserveNudges !== 'function') redis.defineCommand('mmmReserveNudges', { lua: RESERVE_SCRIPT });
  const store: FatigueStore = {
    kind: 'redis',
    async reserve(tenantId, actorId, req: ReserveRequest): Promise<FatigueVerdict[]> {
      return (await store.reserveWithBudget(tenantId, actorId, req)).verdicts;
    },
    async reserveWithBudget(tenantId, actorId, req: ReserveRequest) {
      if (req.candidates.length === 0) return { verdicts: [], remaining: null };
      const tag = `{${tenantId}:${actorId}}`;
      const keys = [
        `${prefix}:fatigue:${tag}:nudges`,
        `${prefix}:fatigue:${tag}:decision:${req.decision_id}`,
        ...req.candidates.map((c) => `${prefix}:fatigue:${tag}:cooldown:${c.key}`),
      ];
      const args = [req.now, req.window_ms, req.max, req.decision_id, RESULT_TTL_MS, ...req.candidates.map((c) => c.cooldown_ms)];
      const result = await r.mmmReserveNudges(keys.length, ...keys, ...args);
      const [list, remaining] = result.split('|');
      return { verdicts: list === '' ? [] : (list.split(',') as FatigueVerdict[]), remaining: remaining === undefined ? null : Number(remaining) };
    },
    async ping() {
      await redis.ping();
    },
  };
  return store;
}
