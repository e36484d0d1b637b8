import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger as PinoLogger } from 'pino';
import type { AgentConfig } from '../config/schema.ts';
import { HealthBoard } from '../health/board.ts';
import { startDependencyProbes } from '../health/probes.ts';
import { RecentErrors } from '../health/recent-errors.ts';
import { startHealthServer } from '../health/server.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError, waitAtMost } from '../plugin-api/index.ts';
import { openRedis } from './operations.ts';
import { mirrorToFile } from '../ledger/file-store.ts';
import type { LedgerStore } from '../ledger/ledger.ts';
import { createRedisBudgetStore } from '../queue/budget-store.ts';
import { createRedisLedgerStore } from '../queue/outbound-ledger.ts';
import type { RedisClient } from '../queue/redis.ts';
import { openQueueSide, startWorkerSide } from './setup.ts';
import type { QueueSide, Roles } from './setup.ts';
import { watchStalledFailures } from '../queue/stalled.ts';
import { applyLocalJobs } from './standalone.ts';
import type { InstructionTarget } from '../run/contract.ts';
import { VERSION } from '../version.ts';
import type { Runtime } from './assemble.ts';
import { Lifecycle, describeStop } from './lifecycle.ts';
import { startIdleMemoryRelease } from './idle-memory.ts';
import { startLinkSide } from './link-side.ts';

/** What the daemon is built from (config, logger, metrics and runtime come from the session). */
export interface DaemonOptions {
  readonly config: AgentConfig;
  readonly logger: PinoLogger;
  readonly metrics: Metrics;
  readonly runtime: Runtime;
  readonly roles: Roles;
  /** Aborted to stop: SIGTERM/SIGINT (main.ts), or a fatal error (see `fatalStop`). */
  readonly signal: AbortSignal;
  /** Distinguishes this start: standalone one-off runs get `<jobId>.<bootId>`. */
  readonly bootId?: string;
  /** Called once the daemon runs (tests read the health port and the target). */
  readonly onRunning?: (daemon: RunningDaemon) => void;
}

/** The running daemon, for tests and the CLI. */
export interface RunningDaemon {
  readonly healthPort: number;
  readonly target: InstructionTarget;
  readonly lifecycle: Lifecycle;
}

/** Seconds past the grace period that closing may take before the process gives up. */
const DEADLINE_MARGIN_MS = 5_000;

/**
 * Runs the agent until `signal` aborts, then drains; resolves with the exit code: 0 after a
 * clean drain, 1 when a close hook failed, the hard deadline passed, or the stop was fatal.
 * Start failures throw (the CLI prints them with their code).
 */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const { logger } = options;
  const lifecycle = new Lifecycle(logger);
  // Aborted at the end of the grace period: active runs stop at a checkpoint and requeue.
  const runs = new AbortController();
  let running: RunningDaemon;
  try {
    running = await buildDaemon(options, lifecycle, runs.signal);
  } catch (error) {
    lifecycle.markFailed();
    await lifecycle.close();
    throw error;
  }
  if (!options.signal.aborted) {
    lifecycle.markRunning();
    options.onRunning?.(running);
    await new Promise((resolve) => {
      options.signal.addEventListener('abort', resolve, { once: true });
    });
  }
  return drain(options, lifecycle, runs);
}

async function drain(
  options: DaemonOptions,
  lifecycle: Lifecycle,
  runs: AbortController,
): Promise<number> {
  const { logger, config } = options;
  const stop = describeStop(options.signal.reason);
  if (stop.fatal) {
    logger.fatal({ err: stop.error }, 'Fatal error; shutting down');
  } else {
    logger.info(
      { reason: stop.error.message, graceMs: config.queue.shutdownGraceMs },
      'Shutdown requested',
    );
  }
  lifecycle.beginDrain();
  const grace = setTimeout(() => {
    logger.info('Grace period over; stopping active runs at their checkpoint');
    runs.abort(
      new PerimeterError(
        'RUN_ABORTED',
        'The agent is shutting down; the run stops at a checkpoint and is requeued',
      ),
    );
  }, config.queue.shutdownGraceMs);
  const deadlineMs = config.queue.shutdownGraceMs + DEADLINE_MARGIN_MS;
  const closed = await waitAtMost(lifecycle.close(), deadlineMs);
  clearTimeout(grace);
  if (closed.timedOut) {
    lifecycle.markFailed();
    logger.error({ deadlineMs }, 'Shutdown deadline exceeded');
    return 1;
  }
  const failures = closed.value;
  logger.info({ state: lifecycle.state, failedHooks: failures.length }, 'Agent stopped');
  return failures.length === 0 && !stop.fatal ? 0 : 1;
}

async function buildDaemon(
  options: DaemonOptions,
  lifecycle: Lifecycle,
  runsSignal: AbortSignal,
): Promise<RunningDaemon> {
  const { config, runtime, roles } = options;
  const { board, errors, port } = await startHealth(options, lifecycle);
  lifecycle.onClose('runtime', () => runtime.close());
  const connections = await openRedis({ ...options, resolver: runtime.resolver });
  lifecycle.onClose('redis', () => connections.close());
  board.attach({ redis: () => connections.health() });
  runtime.useBudgetStore(createRedisBudgetStore(connections.open('budget'), connections.prefix));
  const side = openQueueSide({
    config,
    connections,
    keepEvents: config.controlPlane !== undefined,
    readsEvents: roles.link,
    logger: options.logger,
  });
  lifecycle.onClose('queue', () => side.queue.close());
  board.attach({ queue: side.queue, outbox: side.outbox });
  runtime.useLedgerStore(ledgerStoreOf(config, side.client, side.prefix));
  board.attach({ ledgerHead: () => runtime.ledger.head() });
  const probes = startDependencyProbes({
    runtime,
    catalog: roles.worker ? config.catalog : undefined,
    intervalMs: config.health.probeIntervalMs,
  });
  lifecycle.onClose('probes', () => probes.close());
  board.attach({ probes: probes.probes });
  if (roles.link) {
    startInstructions(options, lifecycle, board, side);
  }
  if (roles.worker) {
    const worker = startWorkerSide({
      ...options,
      connections,
      side,
      shutdown: runsSignal,
      onFailure: (runId, error) => {
        errors.add(error.code, runId);
      },
    });
    // Closing the worker waits for the grace period and the runs' stop; the deadline bounds all.
    lifecycle.onClose('worker', () => worker.close(), {
      timeoutMs: config.queue.shutdownGraceMs + DEADLINE_MARGIN_MS - 1_000,
    });
    board.attach({ activeRuns: () => worker.active() });
    const idleMemory = startIdleMemoryRelease({ isBusy: () => worker.active().length > 0 });
    lifecycle.onClose('idle-memory', () => {
      idleMemory.close();
      return Promise.resolve();
    });
  }
  return { healthPort: port, target: side.target, lifecycle };
}

/** The health board and server, first of all, so /livez answers while the rest starts. */
async function startHealth(
  options: DaemonOptions,
  lifecycle: Lifecycle,
): Promise<{ board: HealthBoard; errors: RecentErrors; port: number }> {
  const { config, runtime } = options;
  const errors = new RecentErrors(config.health.statusErrorsKept);
  const board = new HealthBoard({
    identity: {
      version: VERSION,
      agentId: agentIdOf(config),
      roles: roleNames(options.roles),
      startedAt: new Date(),
      secretStores: runtime.resolver
        .listProfiles()
        .map((p) => ({ profile: p.name, scheme: p.scheme })),
      connectors: [...runtime.connectors.values()].map((c) => ({
        name: c.name,
        version: c.version,
      })),
    },
    metrics: options.metrics,
    state: () => lifecycle.state,
    errors,
  });
  const server = await startHealthServer(
    board.deps(),
    config.health,
    options.logger.child({ component: 'health' }),
  );
  lifecycle.onClose('health', async () => {
    await server.close();
    board.close();
  });
  return { board, errors, port: server.port };
}

/** The link when a control plane is configured, else the config's jobs (standalone mode). */
function startInstructions(
  options: DaemonOptions,
  lifecycle: Lifecycle,
  board: HealthBoard,
  side: QueueSide,
): void {
  const { config, logger } = options;
  if (config.controlPlane !== undefined) {
    const link = startLinkSide({
      settings: config.controlPlane,
      agentId: agentIdOf(config),
      runtime: options.runtime,
      side,
      heartbeat: () => board.heartbeat(),
      logger,
      metrics: options.metrics,
    });
    lifecycle.onClose('link', () => link.stop());
    const stalled = watchStalledFailures({
      client: side.client,
      prefix: side.prefix,
      queue: side.queue,
      outbox: side.outbox,
      logger,
    });
    lifecycle.onClose('stalled-watch', () => stalled.close());
    board.attach({ link: () => link.status() });
    return;
  }
  const bootId = options.bootId ?? newBootId();
  // In the background: with Redis away this waits for it, and /readyz says why meanwhile.
  applyLocalJobs({
    jobs: config.jobs,
    target: side.target,
    queue: side.queue,
    bootId,
    logger,
  }).catch((error: unknown) => {
    logger.error({ err: error }, 'Standalone jobs could not be applied');
  });
}

/** The Redis chain, mirrored to `ledger.file` when set. */
export function ledgerStoreOf(
  config: AgentConfig,
  client: RedisClient,
  prefix: string,
): LedgerStore {
  const store = createRedisLedgerStore({
    client,
    prefix,
    retentionDays: config.ledger.retentionDays,
  });
  return config.ledger.file === undefined ? store : mirrorToFile(store, config.ledger.file);
}

/** `agent.id`, else `perimeter-<hostname>`. */
export function agentIdOf(config: AgentConfig): string {
  return config.agent.id ?? `perimeter-${hostname().toLowerCase()}`;
}

function roleNames(roles: Roles): string[] {
  return [...(roles.link ? ['link'] : []), ...(roles.worker ? ['worker'] : [])];
}

/** A short id of this start: time-ordered, with randomness against same-millisecond starts. */
function newBootId(): string {
  return `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}
