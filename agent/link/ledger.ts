import type { Cluster, Redis } from 'ioredis';
import { PerimeterError } from '../plugin-api/index.ts';

/**
 * Instruction ids already accepted, so that a replay or a redelivery (lease expiry after a lost
 * ack) is a no-op. An id is kept until its instruction expires: after that the instruction is
 * refused as expired anyway.
 */
export interface InstructionLedger {
  /** Records the id; true the first time, false when it was recorded before and has not expired. */
  firstSeen(id: string, expiresAtMs: number): Promise<boolean>;
  /** Drops an id whose instruction could not be applied, so that its redelivery is applied. */
  forget(id: string): Promise<void>;
}

/** Smallest time an id is kept, so that a clock at the edge of the window still records it. */
const MIN_KEEP_MS = 1000;

/**
 * The ledger in Redis: one key per id, `SET key 1 NX PXAT expiresAt`, shared by every link
 * replica of the agent. Keys hold nothing but the marker. With a client that queues commands
 * across reconnects (`maxRetriesPerRequest: null`), a call waits for Redis to come back: the
 * poll loop pauses rather than accept what it cannot record.
 */
export function createRedisInstructionLedger(options: {
  readonly redis: Redis | Cluster;
  /** The agent's key prefix (`perimeter`, `{perimeter}` on a Cluster); keys are `{prefix}:link:instructions:{id}`. */
  readonly prefix: string;
  readonly now?: () => number;
}): InstructionLedger {
  const { redis, prefix } = options;
  const now = options.now ?? Date.now;
  const key = (id: string): string => `${prefix}:link:instructions:${id}`;
  return {
    firstSeen: async (id, expiresAtMs) => {
      const keepUntilMs = Math.max(expiresAtMs, now() + MIN_KEEP_MS);
      const answer = await redisCall(() => redis.set(key(id), '1', 'PXAT', keepUntilMs, 'NX'));
      return answer === 'OK';
    },
    forget: async (id) => {
      await redisCall(() => redis.del(key(id)));
    },
  };
}

/** The ledger in memory, for tests and a single process without Redis. Expired ids are pruned. */
export function createMemoryInstructionLedger(now: () => number = Date.now): InstructionLedger {
  const seen = new Map<string, number>();
  const prune = (): void => {
    const nowMs = now();
    for (const [id, untilMs] of seen) {
      if (untilMs <= nowMs) {
        seen.delete(id);
      }
    }
  };
  return {
    firstSeen: (id, expiresAtMs) => {
      prune();
      if (seen.has(id)) {
        return Promise.resolve(false);
      }
      seen.set(id, Math.max(expiresAtMs, now() + MIN_KEEP_MS));
      return Promise.resolve(true);
    },
    forget: (id) => {
      seen.delete(id);
      return Promise.resolve();
    },
  };
}

async function redisCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new PerimeterError(
      'REDIS_UNAVAILABLE',
      'The instruction ledger could not be read or written in Redis.',
      { cause: error },
    );
  }
}
