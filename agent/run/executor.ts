import type { Logger as PinoLogger } from 'pino';
import type { ClosableHttpClient, DestinationPolicy } from '../http/types.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { ERROR_CODES, PerimeterError, isPerimeterError } from '../plugin-api/index.ts';
import type {
  Connector,
  ConnectorContext,
  DiscoveredResource,
  SecretValue,
} from '../plugin-api/index.ts';
import type { RateLimit } from '../plugin-api/index.ts';
import type { Sink } from '../sink/types.ts';
import { runError } from './abort.ts';
import { extract } from './extract.ts';
import { prepareRun } from './prepare.ts';
import type { PrepareDeps, PreparedRun } from './prepare.ts';
import type {
  ExecuteOptions,
  RunCheckpoint,
  RunExecutor,
  RunProgress,
  RunResult,
  RunSpec,
} from './types.ts';

/** Most resources a `discover` returns; a control-plane dropdown needs no more. */
export const MAX_DISCOVERED_RESOURCES = 10_000;
const PROGRESS_INTERVAL_MS = 2_000;

/** Resolves a connection's credentials; the secret resolver satisfies it. */
export interface CredentialResolver {
  resolveAll(
    refs: Readonly<Record<string, string>>,
    options: { signal: AbortSignal; forceRefresh?: boolean; allowRefs?: readonly string[] },
  ): Promise<Record<string, SecretValue>>;
}

/** Whose request budget a run's client draws from: none when `rateLimit` is undefined. */
export interface SourceBudget {
  readonly connector: string;
  readonly rateLimit: RateLimit | undefined;
}

/** What the executor is built from. */
export interface ExecutorDeps extends PrepareDeps {
  readonly resolver: CredentialResolver;
  /** A source HTTP client bound to one connection's destination policy. */
  readonly httpClientFor: (policy: DestinationPolicy, source?: SourceBudget) => ClosableHttpClient;
  readonly sink: Sink;
  /** Where extracts under review write their batches (the review area); absent: review is off. */
  readonly reviewSink?: Sink;
  readonly logger: PinoLogger;
  readonly metrics?: Metrics;
  /**
   * Where the connector's own work runs: given, it returns a stand-in for the run's connector
   * whose operations execute elsewhere (a capped run thread) with these credentials; absent,
   * here.
   */
  readonly hostConnector?: (
    prepared: PreparedRun,
    credentials: Readonly<Record<string, SecretValue>>,
  ) => Connector;
  /** Scopes the secrets a run registers with the log redactor to the run (the Redactor). */
  readonly redaction?: {
    scope<T>(runId: string, work: () => Promise<T>): Promise<T>;
  };
}

/**
 * Builds the executor of single runs: prepare (no secrets, no network), resolve credentials
 * just in time, run the operation with the connection's HTTP client, and on a credential
 * rejection refresh the secrets once (a rotation) and retry from the last committed checkpoint.
 */
export function createRunExecutor(deps: ExecutorDeps): RunExecutor {
  const execute = async (spec: RunSpec, options: ExecuteOptions): Promise<RunResult> => {
    const startedAt = performance.now();
    const logger = deps.logger.child({ component: 'runtime', runId: spec.runId });
    let prepared: PreparedRun | undefined;
    try {
      prepared = prepareRun(spec, deps);
      logger.info({ connector: prepared.connector.name, operation: spec.operation }, 'Run started');
      const result = await executePrepared(prepared, options, deps, logger, startedAt);
      record(deps, prepared, 'succeeded', startedAt);
      logger.info(
        {
          assets: result.assets,
          batches: result.batches,
          bytes: result.bytes,
          durationMs: result.durationMs,
        },
        result.awaitingReview === true ? 'Run held for review' : 'Run succeeded',
      );
      return result;
    } catch (error) {
      const failure = runError(error, options.signal);
      if (prepared) {
        record(deps, prepared, outcomeOf(failure), startedAt);
      }
      logger.warn(failureFields(failure), 'Run did not succeed');
      throw failure;
    }
  };
  return {
    // A run's secrets are forgotten by the redactor when it ends (another run may still hold them).
    execute: (spec, options) =>
      deps.redaction === undefined
        ? execute(spec, options)
        : deps.redaction.scope(spec.runId, () => execute(spec, options)),
  };
}

async function executePrepared(
  prepared: PreparedRun,
  options: ExecuteOptions,
  deps: ExecutorDeps,
  logger: PinoLogger,
  startedAt: number,
): Promise<RunResult> {
  let resume = options.checkpoint;
  let forceRefresh = false;
  for (;;) {
    const credentials = await deps.resolver.resolveAll(prepared.credentialRefs, {
      signal: options.signal,
      forceRefresh,
      ...(prepared.allowRefs ? { allowRefs: prepared.allowRefs } : {}),
    });
    const http = deps.httpClientFor(prepared.policy, {
      connector: prepared.connector.name,
      rateLimit: prepared.rateLimit ?? prepared.connector.defaultRateLimit,
    });
    try {
      // Bound from the executor's own logger, not the run's: a child repeats no key
      // (`component` is the connector's only once).
      const connectorLogger = deps.logger.child({
        component: 'connector',
        connector: prepared.connector.name,
        runId: prepared.spec.runId,
      });
      const ctx = buildContext(
        prepared,
        credentials,
        http,
        options.signal,
        resume,
        connectorLogger,
      );
      const connector = deps.hostConnector?.(prepared, credentials) ?? prepared.connector;
      return await runOperation(
        { ...prepared, connector },
        ctx,
        { resume, options, deps, startedAt },
        (checkpoint) => {
          resume = checkpoint;
        },
      );
    } catch (error) {
      if (
        !isPerimeterError(error, 'SOURCE_AUTH_FAILED') ||
        forceRefresh ||
        options.signal.aborted
      ) {
        throw error;
      }
      // A source rejecting a credential it accepted before is usually a rotation: read the
      // secrets again, bypassing the cache, and retry once from the last committed checkpoint.
      logger.warn(
        { code: error.code },
        'Source rejected the credentials; refreshing secrets and retrying once',
      );
      deps.metrics?.retriesTotal.inc({ component: 'run', reason: 'credentialRefresh' });
      forceRefresh = true;
    } finally {
      await http.close();
    }
  }
}

function buildContext(
  prepared: PreparedRun,
  credentials: Record<string, SecretValue>,
  http: ClosableHttpClient,
  signal: AbortSignal,
  resume: RunCheckpoint | undefined,
  logger: PinoLogger,
): ConnectorContext<unknown, unknown> {
  const parsed = prepared.connector.configSchema.safeParse({ ...prepared.settings, credentials });
  if (!parsed.success) {
    throw new PerimeterError(
      'JOB_INVALID',
      'The connection settings do not match the connector once resolved',
      {
        context: {
          runId: prepared.spec.runId,
          paths: parsed.error.issues.map((issue) => issue.path.join('.')),
        },
      },
    );
  }
  return {
    config: parsed.data,
    params: prepared.params,
    signal,
    http,
    cursor: resume?.cursor,
    runId: prepared.spec.runId,
    logger,
  };
}

async function runOperation(
  prepared: PreparedRun,
  ctx: ConnectorContext<unknown, unknown>,
  run: {
    readonly resume: RunCheckpoint | undefined;
    readonly options: ExecuteOptions;
    readonly deps: ExecutorDeps;
    readonly startedAt: number;
  },
  onCommitted: (checkpoint: RunCheckpoint) => void,
): Promise<RunResult> {
  const { options, deps, startedAt } = run;
  const { spec, connector } = prepared;
  const base = { runId: spec.runId, operation: spec.operation, connector: connector.name };
  const zero = { assets: 0, batches: 0, bytes: 0 };
  switch (spec.operation) {
    case 'check': {
      const check = await connector.check(ctx);
      return { ...base, ...zero, durationMs: elapsed(startedAt), check };
    }
    case 'discover': {
      const resources = await collect(connector.discover(ctx), ctx.signal);
      return { ...base, ...zero, durationMs: elapsed(startedAt), resources };
    }
    case 'extract': {
      const hooks = options.hooks;
      const reportProgress = throttle((progress) => hooks?.onProgress?.(progress));
      const summary = await extract(connector, ctx, {
        sink: options.review === true ? reviewSinkOf(deps, spec.runId) : deps.sink,
        resume: run.resume,
        secretRefs: Object.values(prepared.credentialRefs),
        onCommit: async (checkpoint) => {
          onCommitted(checkpoint);
          await options.hooks?.onCheckpoint?.(checkpoint);
        },
        onProgress: reportProgress,
      });
      const held = options.review === true ? { awaitingReview: true as const } : {};
      return { ...base, ...summary, durationMs: elapsed(startedAt), ...held };
    }
  }
}

function reviewSinkOf(deps: ExecutorDeps, runId: string): Sink {
  if (deps.reviewSink === undefined) {
    throw new PerimeterError(
      'CONFIG_INVALID',
      'A run is under review but no review area is configured; set review.dir',
      { context: { runId, problems: ['review.dir'] } },
    );
  }
  return deps.reviewSink;
}

async function collect(
  iterable: AsyncIterable<DiscoveredResource>,
  signal: AbortSignal,
): Promise<DiscoveredResource[]> {
  const resources: DiscoveredResource[] = [];
  for await (const resource of iterable) {
    signal.throwIfAborted();
    if (resources.length >= MAX_DISCOVERED_RESOURCES) {
      break;
    }
    resources.push(resource);
  }
  return resources;
}

function throttle(report: (progress: RunProgress) => void): (progress: RunProgress) => void {
  let last = 0;
  return (progress: RunProgress): void => {
    const now = performance.now();
    if (now - last >= PROGRESS_INTERVAL_MS) {
      last = now;
      report({ ...progress });
    }
  };
}

function outcomeOf(error: PerimeterError): string {
  const outcomes: Partial<Record<PerimeterError['code'], string>> = {
    RUN_CANCELLED: 'cancelled',
    RUN_ABORTED: 'aborted',
  };
  return outcomes[error.code] ?? 'failed';
}

function record(
  deps: ExecutorDeps,
  prepared: PreparedRun,
  outcome: string,
  startedAt: number,
): void {
  const labels = { connector: prepared.connector.name, operation: prepared.spec.operation };
  deps.metrics?.runsTotal.inc({ ...labels, outcome });
  deps.metrics?.runDurationSeconds.observe(labels, elapsed(startedAt) / 1000);
}

function elapsed(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

/**
 * Bad input (a job or config problem, exit code 2) is logged by code and message: its stack
 * says only where it was found. Anything else keeps the error whole, with its cause chain.
 */
function failureFields(failure: PerimeterError): Record<string, unknown> {
  return ERROR_CODES[failure.code].exitCode === 2
    ? { code: failure.code, error: failure.message }
    : { err: failure, code: failure.code };
}
