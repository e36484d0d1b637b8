import type { Logger as PinoLogger } from 'pino';
import { waitAtMost } from '../plugin-api/index.ts';
import type { RedisClient } from './redis.ts';

/** Longest a release waits for Redis: an unreleased lease expires by itself. */
const RELEASE_TIMEOUT_MS = 2_000;

// A run takes one of N slot keys of its connection. A run that already holds a slot (its
// earlier attempt died: kill -9, a lost lock) takes it over at once instead of waiting for it
// to expire; BullMQ's job lock already guarantees one live attempt per run.
const ACQUIRE_SCRIPT = `
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    return i
  end
end
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
    return i
  end
end
return 0
`;
// Renews a held slot, or takes it again if it expired meanwhile (a Redis blip) and is free.
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
`;
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** A held slot of a connection: renewed in the background until released. */
export interface Lease {
  readonly key: string;
  /** Stops renewing and frees the slot (only if still ours). Never throws. */
  release(): Promise<void>;
}

/** Per-connection concurrency cap shared by every worker process (Redis SET NX PX). */
export interface ConnectionLeases {
  /** Takes a free slot of the connection, or returns undefined when all `slots` are held. */
  acquire(connectionKey: string, runId: string, slots: number): Promise<Lease | undefined>;
}

/** What the leases need. */
export interface ConnectionLeasesOptions {
  readonly client: RedisClient;
  readonly prefix: string;
  /** Lease lifetime; renewed every third of it, so a dead holder frees its slot after this long. */
  readonly ttlMs: number;
  readonly logger: PinoLogger;
}

/** Builds the per-connection leases. */
export function createConnectionLeases(options: ConnectionLeasesOptions): ConnectionLeases {
  const { client, ttlMs, logger } = options;
  return {
    async acquire(connectionKey, runId, slots) {
      const keys = Array.from(
        { length: slots },
        (_, slot) => `${options.prefix}:lease:${connectionKey}:${slot}`,
      );
      const taken = Number(await client.eval(ACQUIRE_SCRIPT, keys.length, ...keys, runId, ttlMs));
      const key = keys[taken - 1];
      return key === undefined ? undefined : hold(client, key, runId, ttlMs, logger);
    },
  };
}

function hold(
  client: RedisClient,
  key: string,
  runId: string,
  ttlMs: number,
  logger: PinoLogger,
): Lease {
  let timer: NodeJS.Timeout | undefined;
  let released = false;
  const renew = (): void => {
    timer = setTimeout(() => {
      client
        .eval(RENEW_SCRIPT, 1, key, runId, ttlMs)
        .then((renewed) => {
          if (Number(renewed) !== 1) {
            logger.warn(
              { runId, lease: key },
              'Connection lease was taken by another run while this one held it',
            );
          }
        })
        .catch((error: unknown) => {
          logger.warn({ runId, lease: key, err: error }, 'Connection lease could not be renewed');
        })
        .finally(() => {
          if (!released) {
            renew();
          }
        });
    }, ttlMs / 3);
    timer.unref();
  };
  renew();
  return {
    key,
    async release() {
      released = true;
      clearTimeout(timer);
      try {
        await waitAtMost(client.eval(RELEASE_SCRIPT, 1, key, runId), RELEASE_TIMEOUT_MS);
      } catch (error) {
        // It expires by itself after ttlMs; the next run of this connection waits that long at most.
        logger.warn({ runId, lease: key, err: error }, 'Connection lease could not be released');
      }
    },
  };
}
