import type { BudgetStore } from '../http/budget.ts';
import { SLOWDOWN_MS, SLOWED_RATE_FACTOR } from '../http/budget.ts';
import type { RedisClient } from './redis.ts';

/**
 * The token bucket of one source, shared by every replica: one hash (`tokens`, `updatedMs`,
 * `slowedUntilMs`) changed atomically by the script below, on Redis's own clock (`TIME`) so that
 * replicas' clocks never disagree. Same arithmetic as `createLocalBudgetStore`.
 *
 * KEYS[1] bucket; ARGV: rate, burst, slowed factor, mode (`reserve` | `rereserve` | `shrink`),
 * retryAfterMs,
 * slowdownMs. Returns `{waitMs, rate·1000}` (integers: Lua numbers become integers on return).
 */
const BUCKET_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local factor = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updatedMs', 'slowedUntilMs')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
local slowedUntil = tonumber(state[3]) or 0
local inForce = rate
if now < slowedUntil then inForce = rate * factor end
tokens = math.min(burst, tokens + math.max(0, now - updated) * inForce / 1000)
local waitMs = 0
if ARGV[4] == 'shrink' then
  local retryAfter = tonumber(ARGV[5])
  slowedUntil = now + retryAfter + tonumber(ARGV[6])
  inForce = rate * factor
  tokens = math.min(tokens, -retryAfter * inForce / 1000)
else
  if ARGV[4] == 'rereserve' then tokens = math.min(burst, tokens + 1) end
  tokens = tokens - 1
  if tokens < 0 then waitMs = math.ceil(-tokens * 1000 / inForce) end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updatedMs', now, 'slowedUntilMs', slowedUntil)
redis.call('PEXPIRE', KEYS[1], math.max(slowedUntil - now, 0) + waitMs + math.ceil(burst * 1000 / inForce) + 60000)
return {waitMs, math.floor(inForce * 1000)}
`;

/** Where the buckets live in Redis: `<prefix>:budget:<connector> <origin>`. */
export function budgetKey(prefix: string, source: string): string {
  return `${prefix}:budget:${source}`;
}

/** The buckets in Redis, shared by every worker replica (the daemon's store). */
export function createRedisBudgetStore(client: RedisClient, prefix: string): BudgetStore {
  const run = async (
    source: string,
    args: readonly (string | number)[],
  ): Promise<{ waitMs: number; requestsPerSecond: number }> => {
    const reply = (await client.eval(BUCKET_SCRIPT, 1, budgetKey(prefix, source), ...args)) as [
      number,
      number,
    ];
    return { waitMs: reply[0], requestsPerSecond: reply[1] / 1000 };
  };
  return {
    reserve: (source, limit, again = false) =>
      run(source, [
        limit.requestsPerSecond,
        limit.burst,
        SLOWED_RATE_FACTOR,
        again ? 'rereserve' : 'reserve',
        0,
        0,
      ]),
    shrink: async (source, limit, retryAfterMs) => {
      const args = [limit.requestsPerSecond, limit.burst, SLOWED_RATE_FACTOR, 'shrink'];
      await run(source, [...args, Math.round(retryAfterMs), SLOWDOWN_MS]);
    },
  };
}
