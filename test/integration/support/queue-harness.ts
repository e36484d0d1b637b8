import { Redis } from 'ioredis';
import { loadConfig } from '../../../agent/config/load.ts';
import type { AgentConfig } from '../../../agent/config/schema.ts';
import { createMetrics } from '../../../agent/metrics/metrics.ts';
import type { Metrics } from '../../../agent/metrics/metrics.ts';
import { createRedisOutbox } from '../../../agent/queue/outbox.ts';
import { createRedisConnections } from '../../../agent/queue/redis.ts';
import type { RedisConnections } from '../../../agent/queue/redis.ts';
import { openQueueSide, startWorkerSide } from '../../../agent/daemon/setup.ts';
import type { QueueSide } from '../../../agent/daemon/setup.ts';
import type { RunEvent } from '../../../agent/run/contract.ts';
import type { RunWorker } from '../../../agent/queue/worker.ts';
import { PerimeterError } from '../../../agent/plugin-api/index.ts';
import { prepareRun } from '../../../agent/run/prepare.ts';
import type { RunExecutor, RunSpec } from '../../../agent/run/types.ts';
import { secretStores } from '../../../secrets/index.ts';
import { fixtureConnector } from '../../fakes/fixture/connector.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import type { CapturedLogs } from '../../helpers/capture-logs.ts';
import { REDIS_URL, deleteKeys } from './redis.ts';

/** One process's worth of queue side (and optionally a worker) on the real Redis. */
export interface QueueNode {
  readonly side: QueueSide;
  readonly connections: RedisConnections;
  readonly worker: RunWorker | undefined;
  readonly metrics: Metrics;
  /** Aborts the node's active runs (the end of a grace period) and closes its worker. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Nodes sharing one prefix, like pods sharing one Redis. */
export interface QueueHarness {
  /** The key prefix as stored: `{prefix}` on a Cluster. */
  readonly prefix: string;
  readonly config: AgentConfig;
  readonly logs: CapturedLogs;
  /** Starts a node; `executor` makes it a worker. */
  node(options?: { executor?: RunExecutor }): QueueNode;
  /** Every event in the outbox, oldest first. */
  events(runId?: string): Promise<RunEvent[]>;
  close(): Promise<void>;
}

/** A local run on the harness's `fx` connection. */
export function runSpec(runId: string, params: RunSpec['params'] = {}): RunSpec {
  return { runId, operation: 'extract', connectionId: 'fx', params, origin: 'local' };
}

/** Builds the harness: config with queue settings for fast tests, a unique prefix. */
export function queueHarness(
  prefix: string,
  queue: Record<string, unknown> = {},
  maxConcurrentRunsPerConnection = 1,
  redisUrl = REDIS_URL,
): QueueHarness {
  const logs = captureLogs();
  const config = loadConfig(
    {
      env: {},
      file: {
        path: 'test.yaml',
        text: JSON.stringify({
          redis: { url: redisUrl, prefix, connectTimeoutMs: 1_000 },
          queue: {
            backoffMs: 20,
            leaseRetryMs: 50,
            stalledIntervalMs: 1_000,
            lockDurationMs: 5_000,
            ...queue,
          },
          policy: {
            connectors: {
              fixture: { allowHosts: ['127.0.0.1:*'], maxConcurrentRunsPerConnection },
            },
          },
          connections: {
            fx: {
              connector: 'fixture',
              baseUrl: 'http://127.0.0.1:9',
              credentials: { secret: 'env://FIXTURE_SECRET' },
            },
          },
        }),
      },
    },
    { connectors: [fixtureConnector], stores: secretStores },
  );
  const admin = createRedisConnections({ settings: config.redis, logger: logs.logger });
  const nodes: QueueNode[] = [];
  return {
    prefix: admin.prefix,
    config,
    logs,
    node: (options = {}) => {
      const node = startNode(config, logs, options.executor);
      nodes.push(node);
      return node;
    },
    events: async (runId) => {
      const reader = admin.open('reader');
      const outbox = createRedisOutbox({
        client: reader,
        reader,
        prefix: admin.prefix,
        maxLength: 10_000,
        seqTtlSeconds: 60,
        logger: logs.logger,
      });
      const entries = await outbox.read({
        signal: AbortSignal.timeout(5_000),
        max: 10_000,
        blockMs: 1,
      });
      reader.disconnect();
      return entries
        .map((entry) => entry.event)
        .filter((event) => runId === undefined || event.runId === runId);
    },
    close: async () => {
      await Promise.all(nodes.map((node) => node.close()));
      await admin.close();
      if (redisUrl === REDIS_URL) {
        const redis = new Redis(REDIS_URL);
        await deleteKeys(redis, prefix);
        redis.disconnect();
      }
    },
  };
}

function startNode(
  config: AgentConfig,
  logs: CapturedLogs,
  executor: RunExecutor | undefined,
): QueueNode {
  const connections = createRedisConnections({ settings: config.redis, logger: logs.logger });
  const side = openQueueSide({
    config,
    connections,
    keepEvents: true,
    readsEvents: false,
    logger: logs.logger,
  });
  const metrics = createMetrics();
  const runs = new AbortController();
  const connectors = new Map([[fixtureConnector.name, fixtureConnector]]);
  const worker =
    executor === undefined
      ? undefined
      : startWorkerSide({
          config,
          connections,
          side,
          runtime: {
            executor,
            prepare: (spec) => prepareRun(spec, { config, connectors, checkRef: () => undefined }),
          },
          shutdown: runs.signal,
          metrics,
          logger: logs.logger,
        });
  let closing: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    runs.abort(new PerimeterError('RUN_ABORTED', 'test drain'));
    await worker?.close();
  };
  return {
    side,
    connections,
    worker,
    metrics,
    drain,
    close: () => {
      closing ??= (async () => {
        await drain();
        await side.queue.close();
        await connections.close();
      })();
      return closing;
    },
  };
}

/** What a scripted run does: resolve (with `{ assets }` to report a count), or throw. */
export type RunScript = (
  spec: RunSpec,
  options: Parameters<RunExecutor['execute']>[1],
) => Promise<unknown>;

/** A fake executor (our own interface) whose runs do what the test script says. */
export function scriptedExecutor(script: RunScript): RunExecutor & { readonly calls: RunSpec[] } {
  const calls: RunSpec[] = [];
  return {
    calls,
    async execute(spec, options) {
      calls.push(spec);
      const result = await script(spec, options);
      const assets = (result as { assets?: number } | undefined)?.assets ?? 0;
      return {
        runId: spec.runId,
        operation: spec.operation,
        connector: 'fixture',
        assets,
        batches: assets > 0 ? 1 : 0,
        bytes: assets * 10,
        durationMs: 1,
      };
    },
  };
}

/** Resolves once `signal` aborts, rejecting with its reason (a run that honours its signal). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    signal.addEventListener(
      'abort',
      () => {
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
