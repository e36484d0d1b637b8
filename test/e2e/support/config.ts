import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RunJob } from '../../../agent/queue/jobs.ts';
import { QUEUE_NAME } from '../../../agent/queue/queue.ts';

/** What an e2e agent config is made of. */
export interface E2eConfigOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly catalogUrl: string;
  /** The fixture source; the connection `fx` points at it. */
  readonly sourceUrl: string;
  readonly pageSize?: number;
  readonly queue?: Record<string, unknown>;
  readonly jobs?: readonly Record<string, unknown>[];
  readonly controlPlane?: Record<string, unknown>;
  readonly agentId?: string;
  /** `policy.connectors.fixture.maxConcurrentRunsPerConnection` (default 1). */
  readonly runsPerConnection?: number;
}

/**
 * A config for the agent under test: the fixture connection (its secret from
 * `env://FIXTURE_SECRET`), a catalog, Redis, fast queue timings and a health port of its own.
 */
export function e2eConfig(options: E2eConfigOptions): Record<string, unknown> {
  return {
    agent: { id: options.agentId ?? 'e2e-agent', logLevel: 'info' },
    catalog: {
      url: options.catalogUrl,
      batchMaxAssets: 20,
      checkpointMinAssets: 1,
      maxInFlightBatches: 2,
    },
    redis: { url: options.redisUrl, prefix: options.prefix, connectTimeoutMs: 1_000 },
    queue: {
      backoffMs: 100,
      lockDurationMs: 3_000,
      stalledIntervalMs: 1_000,
      leaseRetryMs: 200,
      shutdownGraceMs: 10_000,
      ...options.queue,
    },
    health: { port: 0, host: '127.0.0.1', probeIntervalMs: 500 },
    policy: {
      connectors: {
        fixture: {
          allowHosts: ['127.0.0.1:*'],
          maxConcurrentRunsPerConnection: options.runsPerConnection ?? 1,
        },
      },
    },
    connections: {
      fx: {
        connector: 'fixture',
        baseUrl: options.sourceUrl,
        pageSize: options.pageSize ?? 20,
        credentials: { secret: 'env://FIXTURE_SECRET' },
      },
    },
    jobs: options.jobs ?? [],
    ...(options.controlPlane === undefined ? {} : { controlPlane: options.controlPlane }),
  };
}

/** A BullMQ queue handle from the test process, to look at jobs and schedulers. */
export function inspectQueue(
  redisUrl: string,
  prefix: string,
): { queue: Queue<RunJob>; close(): Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<RunJob>(QUEUE_NAME, { connection, prefix });
  return {
    queue,
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}
