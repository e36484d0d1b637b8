import type { Logger as PinoLogger } from 'pino';
import type { RedisClient } from './redis.ts';

/**
 * Cancellation across processes: the link (which receives `cancel`) and the worker running the
 * run may be different pods. A request sets a key (checked when a worker takes a run, and
 * polled for active runs, so a message lost in a reconnect is still seen) and publishes the run
 * id, so a worker aborts the run within moments.
 */
export interface CancelChannel {
  /** Marks the run cancelled and tells every worker. */
  request(runId: string): Promise<void>;
  /** Whether a cancel was requested for these runs; returns the requested ones. */
  requested(runIds: readonly string[]): Promise<Set<string>>;
  /** Calls `onCancel` for each request from any process; resolves once subscribed. */
  subscribe(onCancel: (runId: string) => void): Promise<void>;
}

/** What the channel needs. */
export interface CancelChannelOptions {
  readonly client: RedisClient;
  /** A client of its own for SUBSCRIBE (a subscribed connection runs no other command). */
  readonly subscriber?: RedisClient;
  readonly prefix: string;
  /** How long a request is remembered (a run cancelled before it was enqueued stays cancelled). */
  readonly ttlSeconds: number;
  readonly logger: PinoLogger;
}

/** Builds the cancel channel on Redis (a key per run and one pub/sub channel). */
export function createCancelChannel(options: CancelChannelOptions): CancelChannel {
  const { client, prefix } = options;
  const channel = `${prefix}:cancel`;
  const keyOf = (runId: string): string => `${prefix}:cancel:${runId}`;
  return {
    async request(runId) {
      await client.set(keyOf(runId), '1', 'EX', options.ttlSeconds);
      await client.publish(channel, runId);
    },
    async requested(runIds) {
      if (runIds.length === 0) {
        return new Set();
      }
      // One EXISTS per key: with a Cluster, keys of one command must share a slot, and these
      // do (the prefix's hash tag), but single-key calls keep this independent of that.
      const found = await Promise.all(
        runIds.map(async (runId) => (await client.exists(keyOf(runId))) === 1),
      );
      return new Set(runIds.filter((_, index) => found[index] === true));
    },
    async subscribe(onCancel) {
      const subscriber = options.subscriber;
      if (subscriber === undefined) {
        throw new Error('This cancel channel was built without a subscriber');
      }
      subscriber.on('message', (from: string, runId: string) => {
        if (from === channel) {
          options.logger.info({ runId }, 'Cancel requested');
          onCancel(runId);
        }
      });
      await subscriber.subscribe(channel);
    },
  };
}
