import type { Logger as PinoLogger } from 'pino';
import { waitAtMost } from '../plugin-api/index.ts';
import type { RedisClient } from '../queue/redis.ts';
import { describeTarget } from '../queue/redis-url.ts';
import type { SecretResolver } from '../secrets/resolver.ts';
import type { AgentConfig } from '../config/schema.ts';
import { openRedis, whenReady } from './operations.ts';

/** Longest the check waits for Redis to close. */
const CLOSE_TIMEOUT_MS = 2_000;

/** What `perimeter check` reports of Redis. */
export interface RedisReport {
  /** Hosts and ports, never a password. */
  readonly where: string;
  /** `maxmemory-policy`, or `unknown` when the server hides it (managed Redis). */
  readonly evictionPolicy: string;
  /** `rdb`, `aof`, `rdb+aof`, `off`, or `unknown`. */
  readonly persistence: string;
}

/**
 * Connects with the agent's own `redis.*` settings (password resolved from its reference),
 * waits until Redis answers (REDIS_UNAVAILABLE naming `redis.url` otherwise), PINGs, and reads
 * the eviction policy and persistence. Managed Redis that forbids CONFIG reports `unknown`.
 */
export async function checkRedis(options: {
  readonly config: AgentConfig;
  readonly resolver: SecretResolver;
  readonly logger: PinoLogger;
  readonly signal: AbortSignal;
}): Promise<RedisReport> {
  const connections = await openRedis({ ...options, closeTimeoutMs: CLOSE_TIMEOUT_MS });
  try {
    const client = connections.open('check');
    await whenReady(client, options.config, connections, options.signal);
    const bound = options.config.redis.connectTimeoutMs + 1_000;
    await waitAtMost(client.ping(), bound, { signal: options.signal });
    const [evictionPolicy, persistence] = await Promise.all([
      waitAtMost(evictionPolicyOf(client), bound, { signal: options.signal }),
      waitAtMost(persistenceOf(client), bound, { signal: options.signal }),
    ]);
    return {
      where: describeTarget(connections.target),
      evictionPolicy: evictionPolicy.timedOut ? 'unknown' : evictionPolicy.value,
      persistence: persistence.timedOut ? 'unknown' : persistence.value,
    };
  } finally {
    await connections.close();
  }
}

async function evictionPolicyOf(client: RedisClient): Promise<string> {
  try {
    const reply = await client.config('GET', 'maxmemory-policy');
    const value = Array.isArray(reply) ? (reply as unknown[])[1] : undefined;
    if (typeof value === 'string' && value !== '') {
      return value;
    }
  } catch {
    // CONFIG is often renamed or forbidden on managed Redis; INFO below may still tell.
  }
  try {
    return /^maxmemory_policy:(\S+)/m.exec(await client.info('memory'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function persistenceOf(client: RedisClient): Promise<string> {
  try {
    const info = await client.info('persistence');
    const aof = /^aof_enabled:(\d)/m.exec(info)?.[1];
    const rdbSaves = await rdbEnabled(client);
    if (aof === undefined && rdbSaves === undefined) {
      return 'unknown';
    }
    const kinds = [...(rdbSaves === true ? ['rdb'] : []), ...(aof === '1' ? ['aof'] : [])];
    return kinds.length === 0 ? 'off' : kinds.join('+');
  } catch {
    return 'unknown';
  }
}

/** Whether RDB snapshots are configured (`save` not empty); undefined when it cannot be told. */
async function rdbEnabled(client: RedisClient): Promise<boolean | undefined> {
  try {
    const reply = await client.config('GET', 'save');
    const value = Array.isArray(reply) ? (reply as unknown[])[1] : undefined;
    if (typeof value === 'string') {
      return value.trim() !== '';
    }
  } catch {
    // Forbidden on some managed Redis: the snapshot schedule cannot be told.
  }
  return undefined;
}
