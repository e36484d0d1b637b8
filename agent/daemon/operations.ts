import type { Logger as PinoLogger } from 'pino';
import type { AgentConfig } from '../config/schema.ts';
import { PerimeterError, coerceError, waitAtMost } from '../plugin-api/index.ts';
import type { SecretValue } from '../plugin-api/index.ts';
import { createCancelChannel } from '../queue/cancel.ts';
import type { CancelChannel } from '../queue/cancel.ts';
import { createRedisConnections } from '../queue/redis.ts';
import type { RedisClient, RedisConnections } from '../queue/redis.ts';
import { describeTarget } from '../queue/redis-url.ts';
import type { SecretResolver } from '../secrets/resolver.ts';
import { openQueueSide } from './setup.ts';
import type { QueueSide } from './setup.ts';

const SECRET_TIMEOUT_MS = 30_000;
/** Longest closing may take: clients that cannot quit by then are disconnected. */
const CLOSE_TIMEOUT_MS = 2_000;

/** What opening Redis with the agent's settings needs. */
export interface OpenRedisOptions {
  readonly config: AgentConfig;
  readonly resolver: SecretResolver;
  readonly logger: PinoLogger;
  readonly signal: AbortSignal;
  readonly closeTimeoutMs?: number;
}

/** The connection factory on `redis.*`, the password resolved from its reference. */
export async function openRedis(options: OpenRedisOptions): Promise<RedisConnections> {
  const { config, logger } = options;
  let password: SecretValue | undefined;
  if (config.redis.password !== undefined) {
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(SECRET_TIMEOUT_MS)]);
    password = await options.resolver.resolve(config.redis.password, { signal });
  }
  return createRedisConnections({
    settings: config.redis,
    ...(password === undefined ? {} : { password }),
    logger: logger.child({ component: 'redis' }),
    ...(options.closeTimeoutMs === undefined ? {} : { closeTimeoutMs: options.closeTimeoutMs }),
  });
}

/** The queue as an operator's command sees it: the daemon's own queue side, no worker. */
export interface Operations {
  readonly side: QueueSide;
  readonly cancel: CancelChannel;
  /** Closes the queue and every client; bounded and idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the queue with the agent's own settings and prefix (as `perimeter start` does) for a
 * one-shot command, and waits until Redis answers: an unreachable Redis fails at once as
 * REDIS_UNAVAILABLE naming `redis.url` instead of waiting out the outage.
 */
export async function openOperations(options: OpenRedisOptions): Promise<Operations> {
  const { config, logger } = options;
  const connections = await openRedis({ ...options, closeTimeoutMs: CLOSE_TIMEOUT_MS });
  const side = openQueueSide({
    config,
    connections,
    keepEvents: config.controlPlane !== undefined,
    readsEvents: false,
    logger,
  });
  side.queue.on('error', () => {
    // Without a listener BullMQ prints the raw error; the readiness wait below reports it.
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= waitAtMost(side.queue.close(), CLOSE_TIMEOUT_MS)
      .catch(() => undefined)
      .then(() => connections.close());
    return closing;
  };
  try {
    await whenReady(side.client, config, connections, options.signal);
  } catch (error) {
    await close();
    throw error;
  }
  return { side, cancel: createCancelChannel(side.cancelOptions), close };
}

/** Resolves once the client is ready; its first connection error, or a timeout, rejects. */
export async function whenReady(
  client: RedisClient,
  config: AgentConfig,
  connections: RedisConnections,
  signal: AbortSignal,
): Promise<void> {
  if (client.status === 'ready') {
    return;
  }
  const timeoutMs = config.redis.connectTimeoutMs + 1_000;
  const where = describeTarget(connections.target);
  const unavailable = (reason: string, cause?: unknown): PerimeterError =>
    new PerimeterError(
      'REDIS_UNAVAILABLE',
      `Redis (${where}) cannot be reached: ${reason}. Check redis.url (PERIMETER_REDIS_URL) and that Redis runs`,
      { cause, context: { setting: 'redis.url', timeoutMs } },
    );
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onReady = (): void => {
      done();
      resolve();
    };
    const onError = (error: unknown): void => {
      done();
      const code = (coerceError(error) as NodeJS.ErrnoException).code;
      reject(unavailable(code ?? 'connection failed', error));
    };
    const onAbort = (): void => {
      done();
      reject(coerceError(signal.reason));
    };
    const timer = setTimeout(() => {
      done();
      reject(unavailable(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    client.once('ready', onReady);
    client.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
