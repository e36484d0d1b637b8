// Entry of a run thread: runs one connector operation at a time for the core, inside the heap
// cap the thread was created with. Nothing here outlives a run except the loaded connectors and
// the idle keep-alive connections of the thread's dispatchers (see DispatcherPool).
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger as PinoLogger } from 'pino';
import { createRequestBudget } from '../../http/budget.ts';
import { createHttpClient } from '../../http/client.ts';
import { DispatcherPool } from '../../http/dispatcher-pool.ts';
import { createLogger } from '../../logging/logger.ts';
import { Redactor } from '../../logging/redactor.ts';
import { PerimeterError, SecretValue } from '../../plugin-api/index.ts';
import type { Connector, ConnectorContext } from '../../plugin-api/index.ts';
import { ChunkEncoder } from './chunks.ts';
import { fromWire, toWire } from './protocol.ts';
import type { StartRun, ThreadData, ToThread } from './protocol.ts';
import { CoreLink } from './remote.ts';

/**
 * Bytes of NDJSON per chunk; a checkpoint closes its chunk at once so the sink can commit it.
 */
const CHUNK_BYTES = 64 * 1024;
/** Room for the line that takes a chunk past its size, so a buffer is rarely grown. */
const CHUNK_BUFFER_BYTES = CHUNK_BYTES + CHUNK_BYTES / 2;
/** Chunks sent and not yet consumed by the core. */
const MAX_CHUNKS_IN_FLIGHT = 8;
const MIB = 1024 * 1024;

const data = workerData as ThreadData;
const port = parentPort;
if (port === null) {
  throw new Error('thread.ts runs only as a worker thread');
}
const link = new CoreLink(port);
const { connectors } = (await import(data.connectorsModule)) as {
  connectors: readonly Connector[];
};
const byName = new Map(connectors.map((connector) => [connector.name, connector]));
// Knows the secrets of the run in progress (forgotten when it ends) and the auth headers its
// clients built.
const redactor = new Redactor();
let current: AbortController | undefined;
/** The runs' source connections, kept for the next run of the same source. */
const dispatchers = new DispatcherPool();
/**
 * The thread's root logger per level, made once: a pino root costs more to build (its
 * redaction paths compiled, its call sites read) than a whole small run. Runs only differ by
 * their child bindings.
 */
const loggers = new Map<string, PinoLogger>();

function rootLogger(level: string): PinoLogger {
  let logger = loggers.get(level);
  if (logger === undefined) {
    logger = createLogger({
      level: level as 'info',
      redactor,
      destination: {
        write: (line: string) => {
          link.post({ type: 'log', line });
        },
      },
    });
    loggers.set(level, logger);
  }
  return logger;
}

port.on('message', (message: ToThread) => {
  if (link.receive(message)) {
    return;
  }
  if (message.type === 'abort') {
    current?.abort(fromWire(message.reason));
  } else if (message.type === 'start') {
    void runOne(message.run);
  }
});

async function runOne(run: StartRun): Promise<void> {
  await redactor.scope(run.runId, () => runScoped(run));
}

async function runScoped(run: StartRun): Promise<void> {
  const controller = new AbortController();
  current = controller;
  link.resetCredit();
  const credentials = unwrapCredentials(run);
  const logger = rootLogger(run.logLevel);
  try {
    const connector = byName.get(run.connector);
    if (connector === undefined) {
      throw new PerimeterError(
        'CONNECTOR_UNKNOWN',
        `No connector "${run.connector}" in the run thread`,
      );
    }
    const value = await operate(connector, run, credentials, controller.signal, logger);
    link.post({ type: 'done', value, heapUsedMb: heapUsedMb() });
  } catch (error) {
    const failure: unknown = controller.signal.aborted ? controller.signal.reason : error;
    if (!(failure instanceof PerimeterError)) {
      logger.warn({ err: failure, runId: run.runId }, 'Run thread caught an unexpected error');
    }
    link.post({
      type: 'failed',
      error: toWire(failure, (t) => redactor.redact(t)),
      heapUsedMb: heapUsedMb(),
    });
  } finally {
    Object.values(credentials).forEach((secret) => {
      secret.destroy();
    });
    link.failPending();
    current = undefined;
  }
}

async function operate(
  connector: Connector,
  run: StartRun,
  credentials: Record<string, SecretValue>,
  signal: AbortSignal,
  root: PinoLogger,
): Promise<unknown> {
  const metrics = link.metrics();
  const budget =
    run.rateLimit === undefined
      ? {}
      : {
          budget: createRequestBudget({
            store: link.budgetStore(),
            connector: connector.name,
            limit: run.rateLimit,
            metrics,
          }),
        };
  const http = createHttpClient({
    policy: run.policy,
    settings: data.http,
    redactor,
    logger: root.child({ component: 'http' }),
    errorDomain: 'source',
    userAgent: data.userAgent,
    metrics,
    ...(data.extraCaPem === undefined ? {} : { extraCaPem: data.extraCaPem }),
    nodeExtraCaCerts: data.nodeExtraCaCerts,
    dispatchers,
    ...budget,
  });
  try {
    const ctx = contextOf(connector, run, credentials, {
      signal,
      http,
      logger: root.child(run.logBindings),
    });
    switch (run.operation) {
      case 'check':
        return await connector.check(ctx);
      case 'discover':
        return await stream(connector.discover(ctx), signal);
      case 'extract':
        return await stream(connector.read(ctx), signal);
    }
  } finally {
    await http.close();
  }
}

function contextOf(
  connector: Connector,
  run: StartRun,
  credentials: Record<string, SecretValue>,
  parts: Pick<ConnectorContext<unknown, unknown>, 'signal' | 'http' | 'logger'>,
): ConnectorContext<unknown, unknown> {
  const config = connector.configSchema.safeParse({ ...run.settings, credentials });
  const params = connector.paramsSchema.safeParse(run.params);
  if (!config.success || !params.success) {
    throw new PerimeterError(
      'JOB_INVALID',
      'The connection settings do not match the connector once resolved',
      {
        context: { runId: run.runId },
      },
    );
  }
  return {
    ...parts,
    config: config.data,
    params: params.data,
    cursor: run.cursor,
    runId: run.runId,
  };
}

/** Forwards every item in chunks, whatever its kind; returns the iterator's return value. */
async function stream(iterable: AsyncIterable<unknown>, signal: AbortSignal): Promise<unknown> {
  const iterator = iterable[Symbol.asyncIterator]();
  const chunk = new ChunkEncoder(CHUNK_BUFFER_BYTES, link.allocate);
  let finished = false;
  try {
    for (;;) {
      const step = await iterator.next();
      if (step.done === true) {
        finished = true;
        if (!chunk.empty) {
          await link.sendEvents(chunk, MAX_CHUNKS_IN_FLIGHT, signal);
        }
        return step.value;
      }
      chunk.add(step.value);
      if (chunk.size >= CHUNK_BYTES || (step.value as { type?: unknown }).type === 'checkpoint') {
        await link.sendEvents(chunk, MAX_CHUNKS_IN_FLIGHT, signal);
      }
    }
  } finally {
    if (!finished) {
      await iterator.return?.();
    }
  }
}

/** The credentials as SecretValues, registered with this thread's redactor; the bytes zeroed. */
function unwrapCredentials(run: StartRun): Record<string, SecretValue> {
  return Object.fromEntries(
    Object.entries(run.credentials).map(([name, bytes]) => {
      const secret = new SecretValue(Buffer.from(bytes));
      redactor.add(secret.reveal());
      bytes.fill(0);
      return [name, secret];
    }),
  );
}

function heapUsedMb(): number {
  return Math.round(getHeapStatistics().used_heap_size / MIB);
}
