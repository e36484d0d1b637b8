import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The shared Redis of the test machine. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix of its own for one test, so parallel tests never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${randomBytes(4).toString('hex')}`;
}

/** Every key under a prefix (with or without a Cluster hash tag around it). */
export async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}

/**
 * Everything stored under a prefix, every type read whole: strings, hashes, lists, sets,
 * sorted sets and streams, as one text per key, for canary scans.
 */
export async function dumpKeys(redis: Redis, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await keysOf(redis, prefix)) {
    out[key] = JSON.stringify(await readKey(redis, key));
  }
  return out;
}

async function readKey(redis: Redis, key: string): Promise<unknown> {
  switch (await redis.type(key)) {
    case 'string':
      return redis.get(key);
    case 'hash':
      return redis.hgetall(key);
    case 'list':
      return redis.lrange(key, 0, -1);
    case 'set':
      return redis.smembers(key);
    case 'zset':
      return redis.zrange(key, 0, -1, 'WITHSCORES');
    case 'stream':
      return redis.xrange(key, '-', '+');
    default:
      return null;
  }
}

/** Deletes every key under a prefix (after a test). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysOf(redis, prefix);
  for (let index = 0; index < keys.length; index += 500) {
    await redis.del(...keys.slice(index, index + 500));
  }
}
