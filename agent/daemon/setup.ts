import type { Logger as PinoLogger } from 'pino';
import type { AgentConfig } from '../config/schema.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { PerimeterError } from '../plugin-api/index.ts';
import type { Runtime } from './assemble.ts';
import { createCancelChannel } from '../queue/cancel.ts';
import type { CancelChannelOptions } from '../queue/cancel.ts';
import { createRunLedger } from '../queue/ledger.ts';
import type { RunLedger } from '../queue/ledger.ts';
import { createConnectionLeases } from '../queue/lease.ts';
import { createDiscardingOutbox, createRedisOutbox } from '../queue/outbox.ts';
import { openRunQueue, runJobOptions } from '../queue/queue.ts';
import type { RunQueue } from '../queue/queue.ts';
import type { RedisClient, RedisConnections } from '../queue/redis.ts';
import { createReviewMarks } from '../queue/review-marks.ts';
import { createInstructionTarget } from '../queue/target.ts';
import { reviewModeOf } from '../run/settings.ts';
import type { EventOutbox, InstructionTarget } from '../run/contract.ts';
import { startRunWorker } from '../queue/worker.ts';
import type { RunWorker } from '../queue/worker.ts';

/** What this process does: take instructions (link or standalone jobs), run jobs, or both. */
export interface Roles {
  readonly link: boolean;
  readonly worker: boolean;
}

/** The queue side of the daemon. */
export interface QueueSide {
  readonly queue: RunQueue;
  readonly outbox: EventOutbox;
  readonly target: InstructionTarget;
  /** The shared client (queue, outbox appends, ledgers, leases, cancel keys). */
  readonly client: RedisClient;
  readonly prefix: string;
  readonly ledger: RunLedger;
  readonly cancelOptions: CancelChannelOptions;
}

/** What opening the queue side needs. */
export interface QueueSideOptions {
  readonly config: AgentConfig;
  readonly connections: RedisConnections;
  /** Whether a control plane reads the events (else they are not kept). */
  readonly keepEvents: boolean;
  /** Whether this process reads the outbox (the link role). */
  readonly readsEvents: boolean;
  readonly logger: PinoLogger;
}

const HOUR_SECONDS = 3_600;

/** Opens the queue, the event outbox and the instruction target on the shared connections. */
export function openQueueSide(options: QueueSideOptions): QueueSide {
  const { config, connections, logger } = options;
  const settings = config.queue;
  const client = connections.open('main');
  const prefix = connections.prefix;
  const queue = openRunQueue(client, prefix);
  const ttlSeconds = settings.dedupeWindowHours * HOUR_SECONDS;
  const ledger = createRunLedger({ client, prefix, ttlSeconds });
  const outbox = options.keepEvents
    ? createRedisOutbox({
        client,
        ...(options.readsEvents ? { reader: connections.open('events') } : {}),
        prefix,
        maxLength: settings.eventsMaxLength,
        seqTtlSeconds: ttlSeconds,
        logger: logger.child({ component: 'outbox' }),
      })
    : createDiscardingOutbox();
  const cancelOptions = {
    client,
    prefix,
    ttlSeconds,
    logger: logger.child({ component: 'cancel' }),
  };
  const target = createInstructionTarget({
    queue,
    jobOptions: runJobOptions(settings),
    ledger,
    outbox,
    cancel: createCancelChannel(cancelOptions),
    maxWaitingRuns: settings.maxWaitingRuns,
    logger: logger.child({ component: 'queue' }),
  });
  return { queue, outbox, target, client, prefix, ledger, cancelOptions };
}

/** What starting the worker needs besides the queue side. */
export interface WorkerSideOptions {
  readonly config: AgentConfig;
  readonly connections: RedisConnections;
  readonly side: QueueSide;
  readonly runtime: Pick<Runtime, 'executor' | 'prepare'>;
  /** Aborted at the end of the grace period: active runs stop at a checkpoint and requeue. */
  readonly shutdown: AbortSignal;
  readonly metrics: Metrics;
  readonly logger: PinoLogger;
  readonly onFailure?: (runId: string, error: PerimeterError) => void;
}

/** Starts this process's worker: leases, cancel subscription and the BullMQ worker. */
export function startWorkerSide(options: WorkerSideOptions): RunWorker {
  const { config, connections, side, logger } = options;
  const { client, ledger, cancelOptions } = side;
  const policies = config.policy.connectors;
  const marks = createReviewMarks({ client, prefix: connections.prefix });
  return startRunWorker({
    client,
    prefix: connections.prefix,
    executor: options.runtime.executor,
    prepare: (spec) => options.runtime.prepare(spec),
    slotsFor: (connector) => policies[connector]?.maxConcurrentRunsPerConnection ?? 1,
    reviewFor: (prepared) =>
      marks.mustReview(
        prepared.connectionKey,
        reviewModeOf(config.review, prepared.spec.connectionId),
      ),
    onHeld: (runId, prepared) => marks.held(runId, prepared.connectionKey),
    outbox: side.outbox,
    leases: createConnectionLeases({
      client,
      prefix: connections.prefix,
      ttlMs: config.queue.lockDurationMs,
      logger: logger.child({ component: 'lease' }),
    }),
    ledger,
    cancel: createCancelChannel({ ...cancelOptions, subscriber: connections.open('cancel') }),
    settings: config.queue,
    shutdown: options.shutdown,
    logger: logger.child({ component: 'worker' }),
    metrics: options.metrics,
    ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
  });
}
