import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';
import type { Registry } from '../config/load.ts';
import type { AgentConfig } from '../config/schema.ts';
import { createLocalBudgetStore, createRequestBudget } from '../http/budget.ts';
import type { BudgetStore, RequestBudget } from '../http/budget.ts';
import { createHttpClient } from '../http/client.ts';
import { DispatcherPool } from '../http/dispatcher-pool.ts';
import { readCaBundle } from '../http/settings.ts';
import type { ClosableHttpClient, DestinationPolicy, ErrorDomain } from '../http/types.ts';
import type { Redactor } from '../logging/redactor.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { Connector, SecretStoreNetwork } from '../plugin-api/index.ts';
import { createFileLedgerStore } from '../ledger/file-store.ts';
import { createOutboundLedger } from '../ledger/ledger.ts';
import type { LedgerStore, OutboundLedger } from '../ledger/ledger.ts';
import { createSecretResolver, resolveWithin } from '../secrets/resolver.ts';
import type { SecretResolver } from '../secrets/resolver.ts';
import {
  catalogDestinationPolicy,
  createCatalogSink,
  pushReviewedRun,
} from '../sink/catalog-sink.ts';
import type { CatalogSinkOptions } from '../sink/catalog-sink.ts';
import { createDirectorySink } from '../sink/directory-sink.ts';
import type { BatchingSettings } from '../sink/settings.ts';
import type { Sink } from '../sink/types.ts';
import { USER_AGENT } from '../version.ts';
import { createRunExecutor } from '../run/executor.ts';
import { prepareRun } from '../run/prepare.ts';
import type { PreparedRun } from '../run/prepare.ts';
import type { SourceBudget } from '../run/executor.ts';
import type { RunExecutor, RunSpec } from '../run/types.ts';
import { hostedConnector, runMemoryMb } from './run-thread/hosted.ts';
import { RunThreadPool } from './run-thread/pool.ts';

/** What the runtime is assembled from. */
export interface RuntimeOptions {
  readonly config: AgentConfig;
  readonly registry: Registry;
  readonly logger: PinoLogger;
  readonly redactor: Redactor;
  readonly metrics: Metrics;
  /** The process environment, for the env secret store. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Where extracted batches go: the catalog (default), a directory (`perimeter run --output`),
   * or nowhere for commands that never extract (`check`, `discover`).
   */
  readonly output?:
    | { readonly kind: 'catalog' }
    | { readonly kind: 'directory'; readonly dir: string }
    | { readonly kind: 'none' };
  /**
   * Whether `queue.isolation: auto` runs each run's connector in a capped thread: true for the
   * daemon (`perimeter start`), whose core the runs share. A one-shot command is its one run, so
   * under `auto` it keeps the run in its own thread and its memory to one heap.
   */
  readonly isolateRuns?: boolean;
}

/** The assembled pieces that run jobs. */
export interface Runtime {
  readonly resolver: SecretResolver;
  readonly executor: RunExecutor;
  readonly sink: Sink;
  readonly connectors: ReadonlyMap<string, Connector>;
  /** Records every request that carries metadata out (catalog pushes, control-plane calls). */
  readonly ledger: OutboundLedger;
  /**
   * Sets the ledger's store: the daemon's Redis chain once Redis is open. Until then (and in
   * `perimeter run`) it is `ledger.file` alone when set, else nothing is recorded.
   */
  useLedgerStore(store: LedgerStore): void;
  /** Pushes a reviewed run's batches verbatim, then `complete` (`perimeter review approve`). */
  pushReviewed(run: Parameters<typeof pushReviewedRun>[1], signal: AbortSignal): Promise<void>;
  /** Checks a run without secrets or network (the link uses it to accept instructions). */
  prepare(spec: RunSpec): PreparedRun;
  /** Builds an HTTP client with the agent's proxy, CA and timeouts (checks, catalog, control plane). */
  httpClient(
    policy: DestinationPolicy,
    options: {
      readonly errorDomain: ErrorDomain;
      readonly clientCert?: { readonly certPem: string; readonly keyPem: string };
    },
  ): ClosableHttpClient;
  /**
   * Where sources' request budgets live from now on: the daemon hands over the Redis store once
   * Redis is open, so every replica draws from one bucket. Until then (and in one-shot commands)
   * the buckets are this process's.
   */
  useBudgetStore(store: BudgetStore): void;
  /** Closes the sink, the secret stores (revoking login tokens) and HTTP pools. Idempotent. */
  close(): Promise<void>;
}

/** Assembles resolver, HTTP clients, sink and executor from a loaded configuration. */
export function assembleRuntime(options: RuntimeOptions): Runtime {
  const { config, logger, redactor, metrics } = options;
  const extraCaPem =
    config.http.caFile === undefined ? undefined : readCaBundle(config.http.caFile);
  const network: SecretStoreNetwork = {
    extraCaPem,
    httpsProxy: config.http.httpsProxy,
    noProxy: config.http.noProxy,
  };
  const resolver = createSecretResolver({
    stores: options.registry.stores,
    profiles: config.secretStores,
    settings: config.secrets,
    network,
    redactor,
    logger: logger.child({ component: 'secrets' }),
    metrics,
    environment: options.env,
  });
  let budgetStore = createLocalBudgetStore();
  const budgetFor = (source: SourceBudget | undefined): { budget?: RequestBudget } =>
    source?.rateLimit === undefined
      ? {}
      : {
          budget: createRequestBudget({
            store: budgetStore,
            connector: source.connector,
            limit: source.rateLimit,
            metrics,
          }),
        };
  // Runs on this thread lease their source clients' connections from here (see DispatcherPool).
  const sourceDispatchers = new DispatcherPool();
  const httpClient = (
    policy: DestinationPolicy,
    errorDomain: ErrorDomain,
    clientCert?: { readonly certPem: string; readonly keyPem: string },
    source?: SourceBudget,
  ): ClosableHttpClient =>
    createHttpClient({
      policy,
      settings: config.http,
      redactor,
      logger: logger.child({ component: 'http' }),
      errorDomain,
      userAgent: USER_AGENT,
      metrics,
      ...(extraCaPem === undefined ? {} : { extraCaPem }),
      nodeExtraCaCerts: options.env['NODE_EXTRA_CA_CERTS'],
      ...(clientCert === undefined ? {} : { clientCert }),
      ...budgetFor(source),
      ...(source === undefined ? {} : { dispatchers: sourceDispatchers }),
    });
  let ledgerStore: LedgerStore | undefined =
    config.ledger.file === undefined ? undefined : createFileLedgerStore(config.ledger.file);
  const ledger = createOutboundLedger({
    store: () => ledgerStore,
    logger: logger.child({ component: 'ledger' }),
  });
  const sink = buildSink(options, resolver, ledger, (policy) => httpClient(policy, 'sink'));
  const reviewSink = buildReviewSink(options);
  const connectors = new Map(options.registry.connectors.map((c) => [c.name, c]));
  const prepareDeps = {
    config,
    connectors,
    checkRef: (ref: string, allowRefs: readonly string[] | undefined) => {
      resolver.check(ref, allowRefs === undefined ? {} : { allowRefs });
    },
  };
  const pool = runThreadPool(options, extraCaPem);
  const executor = createRunExecutor({
    ...prepareDeps,
    resolver,
    httpClientFor: (policy, source) => httpClient(policy, 'source', undefined, source),
    sink,
    ...(reviewSink === undefined ? {} : { reviewSink }),
    logger,
    metrics,
    ...(pool === undefined
      ? {}
      : {
          hostConnector: (prepared, credentials) =>
            hostedConnector(prepared, credentials, {
              pool,
              budgetStore: () => budgetStore,
              metrics,
              logger,
              writeLine: lineWriter(logger, redactor),
              memoryMbFor: (connector) =>
                runMemoryMb(connector, config.queue, config.policy.connectors[connector.name]),
            }),
        }),
    redaction: redactor,
  });
  let closing: Promise<void> | undefined;
  return {
    resolver,
    executor,
    sink,
    connectors,
    ledger,
    useLedgerStore: (store) => {
      ledgerStore = store;
    },
    pushReviewed: async (run, signal) => {
      const catalog = catalogSinkOptions(options, resolver, ledger, (policy) =>
        httpClient(policy, 'sink'),
      );
      try {
        await pushReviewedRun(catalog, run, signal);
      } finally {
        await catalog.http.close();
      }
    },
    prepare: (spec) => prepareRun(spec, prepareDeps),
    httpClient: (policy, { errorDomain, clientCert }) =>
      httpClient(policy, errorDomain, clientCert),
    useBudgetStore: (store) => {
      budgetStore = store;
    },
    close: () => {
      closing ??= Promise.allSettled([
        sink.close(),
        reviewSink?.close(),
        resolver.close(),
        pool?.close(),
      ])
        .then(() => sourceDispatchers.close())
        .then(() => undefined);
      return closing;
    },
  };
}

/**
 * The run threads, when `queue.isolation` asks for them (see `isolateRuns`) and the registry
 * names the module its connectors come from (an embedding that passes connectors alone runs
 * them in-process).
 */
function runThreadPool(
  options: RuntimeOptions,
  extraCaPem: string | undefined,
): RunThreadPool | undefined {
  const { config, registry } = options;
  const { isolation } = config.queue;
  const threads = isolation === 'thread' || (isolation === 'auto' && options.isolateRuns === true);
  if (!threads || registry.connectorsModule === undefined) {
    return undefined;
  }
  return new RunThreadPool({
    data: {
      connectorsModule: registry.connectorsModule,
      http: config.http,
      extraCaPem,
      nodeExtraCaCerts: options.env['NODE_EXTRA_CA_CERTS'],
      userAgent: USER_AGENT,
    },
    maxIdle: config.queue.concurrency,
    logger: options.logger.child({ component: 'run-threads' }),
  });
}

/** Writes a run thread's finished line where the core's own lines go, through its redactor too. */
function lineWriter(logger: PinoLogger, redactor: Redactor): (line: string) => void {
  const stream = (logger as unknown as Record<symbol, pino.DestinationStream>)[
    pino.symbols.streamSym
  ];
  return (line) => {
    stream?.write(redactor.redact(line));
  };
}

/** The batching part of the catalog settings, so --output files match what a push sends. */
function batchingOf(catalog: NonNullable<AgentConfig['catalog']>): Partial<BatchingSettings> {
  const { batchMaxAssets, batchMaxBytes, checkpointMinAssets, maxInFlightBatches } = catalog;
  return { batchMaxAssets, batchMaxBytes, checkpointMinAssets, maxInFlightBatches };
}

/** Longest read of the catalog token, made before every catalog call. */
const TOKEN_TIMEOUT_MS = 30_000;

/** The sink of commands that never extract: opening it is a programming error. */
const refusingSink: Sink = {
  open: () => {
    throw new PerimeterError('INTERNAL', 'This command does not push metadata');
  },
  close: () => Promise.resolve(),
};

function buildSink(
  options: RuntimeOptions,
  resolver: SecretResolver,
  ledger: OutboundLedger,
  sinkHttpClient: (policy: DestinationPolicy) => ClosableHttpClient,
): Sink {
  const output = options.output ?? { kind: 'catalog' };
  if (output.kind === 'directory') {
    return directorySink(options, output.dir);
  }
  if (output.kind === 'none') {
    return refusingSink;
  }
  return createCatalogSink(catalogSinkOptions(options, resolver, ledger, sinkHttpClient));
}

function directorySink(options: RuntimeOptions, dir: string): Sink {
  return createDirectorySink({
    directory: dir,
    // The directory sink binds `component: 'sink'` itself.
    logger: options.logger,
    metrics: options.metrics,
    ...(options.config.catalog === undefined
      ? {}
      : { batching: batchingOf(options.config.catalog) }),
  });
}

/** The review area's sink, when `review.dir` is set and this process pushes to the catalog. */
function buildReviewSink(options: RuntimeOptions): Sink | undefined {
  const dir = options.config.review.dir;
  const pushes = (options.output ?? { kind: 'catalog' }).kind === 'catalog';
  return dir === undefined || !pushes ? undefined : directorySink(options, dir);
}

/** How the catalog is reached: its settings, a client under its policy, the token, the ledger. */
function catalogSinkOptions(
  options: RuntimeOptions,
  resolver: SecretResolver,
  ledger: OutboundLedger,
  sinkHttpClient: (policy: DestinationPolicy) => ClosableHttpClient,
): CatalogSinkOptions {
  const catalog = options.config.catalog;
  if (catalog === undefined) {
    throw new PerimeterError(
      'CONFIG_INVALID',
      'No catalog is configured: set catalog.url (PERIMETER_CATALOG_URL), or write to a directory with --output DIR',
      {
        context: { problems: ['catalog.url'] },
      },
    );
  }
  const tokenRef = catalog.token;
  return {
    settings: catalog,
    http: sinkHttpClient(catalogDestinationPolicy(catalog)),
    token: async () =>
      tokenRef === undefined ? undefined : resolveWithin(resolver, tokenRef, TOKEN_TIMEOUT_MS),
    // The catalog sink binds `component: 'sink'` itself.
    logger: options.logger,
    metrics: options.metrics,
    ledger,
  };
}
