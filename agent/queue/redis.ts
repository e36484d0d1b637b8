import { readFileSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import { PerimeterError, backoffDelayMs, coerceError, waitAtMost } from '../plugin-api/index.ts';
import type { SecretValue } from '../plugin-api/index.ts';
import { describeTarget, parseRedisUrl } from './redis-url.ts';
import type { RedisTarget } from './redis-url.ts';
import type { RedisSettings } from './settings.ts';

/** Any Redis client of the agent: a single node (possibly through Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

/** The connection state the health server reports. */
export interface RedisHealth {
  readonly ready: boolean;
  /** Client name → ioredis status (`ready`, `connecting`, `reconnecting`, `end`, …). */
  readonly clients: Readonly<Record<string, string>>;
}

/** Every Redis client of the process, made in one place and closed together. */
export interface RedisConnections {
  readonly target: RedisTarget;
  /** The key prefix for BullMQ and our own keys: `perimeter`, or `{perimeter}` on a Cluster. */
  readonly prefix: string;
  /**
   * Opens a named client (`main`, `events`, `cancel`…; the name shows in CLIENT LIST). All use
   * `maxRetriesPerRequest: null`: commands wait across reconnects instead of failing, which
   * BullMQ workers require and which keeps an enqueue from being lost in a blip.
   */
  open(name: string): RedisClient;
  health(): RedisHealth;
  /** Quits every client (bounded; a client that cannot quit is disconnected). Idempotent. */
  close(): Promise<void>;
}

/** What the connection factory needs. */
export interface RedisConnectionsOptions {
  readonly settings: RedisSettings;
  /** The password, already resolved from `redis.password`. */
  readonly password?: SecretValue;
  readonly logger: PinoLogger;
  /** Longest a client may take to quit on close. */
  readonly closeTimeoutMs?: number;
}

const RECONNECT_BACKOFF = { baseMs: 200, maxMs: 5_000 };
const RECONNECT_FLOOR_MS = 100;

/**
 * Builds the connection factory: parses `redis.url` (throws CONFIG_INVALID), reads the CA file,
 * and returns a factory of clients that reconnect forever with jittered backoff and log their
 * errors (once per outage, never crashing the process).
 */
export function createRedisConnections(options: RedisConnectionsOptions): RedisConnections {
  const { settings, logger } = options;
  const target = parseRedisUrl(settings.url);
  const ca = settings.caFile === undefined ? undefined : readCaFile(settings.caFile);
  const prefix = target.kind === 'cluster' ? `{${settings.prefix}}` : settings.prefix;
  const clients = new Map<string, RedisClient>();
  let closing: Promise<void> | undefined;
  logger.info({ redis: describeTarget(target), prefix }, 'Redis configured');
  return {
    target,
    prefix,
    open(name) {
      if (closing !== undefined) {
        throw new PerimeterError('INTERNAL', 'Redis connections are closed');
      }
      const unique = clients.has(name) ? `${name}-${clients.size}` : name;
      const client = createClient(target, clientOptions(settings, options.password, ca, unique));
      watch(client, unique, logger);
      if (clients.size === 0) {
        client.once('ready', () => {
          void checkEvictionPolicy(client, logger);
        });
      }
      clients.set(unique, client);
      return client;
    },
    health() {
      const statuses = Object.fromEntries(
        [...clients].map(([name, client]) => [name, client.status]),
      );
      const ready =
        clients.size > 0 && Object.values(statuses).every((status) => status === 'ready');
      return { ready, clients: statuses };
    },
    close() {
      closing ??= Promise.all(
        [...clients.values()].map((client) => quit(client, options.closeTimeoutMs ?? 2_000)),
      ).then(() => undefined);
      return closing;
    },
  };
}

function clientOptions(
  settings: RedisSettings,
  password: SecretValue | undefined,
  ca: Buffer | undefined,
  name: string,
): RedisOptions {
  return {
    connectionName: `perimeter-${name}`,
    connectTimeout: settings.connectTimeoutMs,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: reconnectDelay,
    // After a Sentinel failover the old master turns replica; reconnecting finds the new one.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(password === undefined ? {} : { password: password.reveal() }),
    ...(ca === undefined ? {} : { tls: { ca } }),
  };
}

function createClient(target: RedisTarget, base: RedisOptions): RedisClient {
  const tls = target.tls ? { tls: base.tls ?? {} } : { tls: undefined };
  switch (target.kind) {
    case 'standalone':
      return new Redis({
        ...base,
        ...tls,
        host: target.endpoint.host,
        port: target.endpoint.port,
        db: target.db,
      });
    case 'sentinel':
      return new Redis({
        ...base,
        ...tls,
        sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: target.masterName,
        db: target.db,
        sentinelRetryStrategy: reconnectDelay,
        enableTLSForSentinelMode: target.tls,
        ...(base.password === undefined ? {} : { sentinelPassword: base.password }),
        ...(base.username === undefined ? {} : { sentinelUsername: base.username }),
      });
    case 'cluster': {
      const { retryStrategy: _unused, enableOfflineQueue, ...redisOptions } = { ...base, ...tls };
      const clusterOptions: ClusterOptions = {
        redisOptions,
        enableOfflineQueue,
        clusterRetryStrategy: reconnectDelay,
      };
      return new Cluster(
        target.nodes.map((n) => ({ host: n.host, port: n.port })),
        clusterOptions,
      );
    }
  }
}

/**
 * Reconnect forever with the toolkit's full-jitter backoff: the ceiling doubles from 200 ms to
 * 5 s, so replicas that lost Redis together do not stampede it. ioredis counts `times` from 1.
 * The floor keeps a client from reconnecting at once into a server that is going away.
 */
function reconnectDelay(times: number): number {
  return backoffDelayMs(RECONNECT_BACKOFF, times, { floorMs: RECONNECT_FLOOR_MS });
}

/** Logs a client's first error of an outage and its recovery; an `error` listener keeps ioredis from crashing the process. */
function watch(client: RedisClient, name: string, logger: PinoLogger): void {
  let failing = false;
  client.on('error', (error: unknown) => {
    if (!failing) {
      failing = true;
      const cause = coerceError(error);
      logger.warn(
        { client: name, errorCode: (cause as NodeJS.ErrnoException).code, err: cause },
        'Redis connection failed; reconnecting',
      );
    }
  });
  client.on('ready', () => {
    if (failing) {
      failing = false;
      logger.info({ client: name }, 'Redis connection restored');
    }
  });
}

/**
 * Warns, as a structured line, when Redis may evict keys: under memory pressure it would drop
 * queue keys and runs would vanish silently. (BullMQ prints its own plain-text warning too.)
 */
async function checkEvictionPolicy(client: RedisClient, logger: PinoLogger): Promise<void> {
  try {
    const info = await client.info('memory');
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy !== undefined && policy !== 'noeviction') {
      logger.warn(
        { maxmemoryPolicy: policy },
        'Redis may evict queue keys; set maxmemory-policy noeviction',
      );
    }
  } catch {
    // INFO may be disabled by ACLs; the check is advice only.
  }
}

async function quit(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => {
    client.once('end', () => {
      resolve();
    });
  });
  // The server's OK can arrive before the socket closes: the client has quit once it ended.
  const quitted = await waitAtMost(
    client.quit().then(() => ended),
    timeoutMs,
  ).catch(() => undefined);
  if (quitted === undefined || quitted.timedOut) {
    client.disconnect();
  }
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (coerceError(error) as NodeJS.ErrnoException).code ?? 'error';
    throw new PerimeterError(
      'CONFIG_INVALID',
      `redis.caFile: ${path} cannot be read (${code}); check the path and the mount.`,
      {
        cause: error,
        context: { problems: ['redis.caFile'] },
      },
    );
  }
}
