import type { Logger as PinoLogger } from 'pino';
import type { BudgetStore } from '../../http/budget.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import { toPerimeterError } from '../../plugin-api/index.ts';
import type {
  CheckReport,
  Connector,
  ConnectorContext,
  ConnectorEvent,
  DiscoveredResource,
  SecretValue,
} from '../../plugin-api/index.ts';
import type { PreparedRun } from '../../run/prepare.ts';
import { toWire } from './protocol.ts';
import type { FromThread, StartRun, ToThread } from './protocol.ts';
import type { RunThreadPool, SessionHandlers, ThreadSession } from './pool.ts';

/** What hosting a run's connector in a thread needs from the core. */
export interface RunHostOptions {
  readonly pool: RunThreadPool;
  /** The budget store in force (the daemon hands over the Redis one once Redis is open). */
  readonly budgetStore: () => BudgetStore;
  readonly metrics: Metrics;
  /** The run's logger: its level and bindings are the thread's. */
  readonly logger: PinoLogger;
  /** Writes a finished line from the thread where the core's lines go. */
  readonly writeLine: (line: string) => void;
  /** The heap cap of a run of this connector, in MiB. */
  readonly memoryMbFor: (connector: Connector) => number;
}

/**
 * The run's connector as the executor sees it: same declarations, but `check`, `discover` and
 * `read` run in a capped thread. The credentials go to that thread alone; what comes back is
 * the operation's items (any kind of event, forwarded as it is), its end, log lines already
 * redacted there, metric updates and budget calls.
 */
export function hostedConnector(
  prepared: PreparedRun,
  credentials: Readonly<Record<string, SecretValue>>,
  options: RunHostOptions,
): Connector {
  const { connector } = prepared;
  const memoryMb = options.memoryMbFor(connector);
  const open = (ctx: ConnectorContext<unknown, unknown>, operation: StartRun['operation']) =>
    options.pool.start(
      startOf(prepared, credentials, ctx, operation, options),
      memoryMb,
      handlersOf(options),
    );
  return {
    ...connector,
    check: async (ctx) => {
      const items = drain(open(ctx, 'check'), ctx.signal);
      for (;;) {
        const step = await items.next();
        if (step.done === true) {
          return step.value as CheckReport;
        }
      }
    },
    discover: (ctx) =>
      drain(open(ctx, 'discover'), ctx.signal) as AsyncGenerator<DiscoveredResource>,
    read: (ctx) => drain(open(ctx, 'extract'), ctx.signal) as AsyncGenerator<ConnectorEvent>,
  };
}

/** Yields the session's items chunk by chunk, granting the next chunk once one is consumed. */
async function* drain(
  session: ThreadSession,
  signal: AbortSignal,
): AsyncGenerator<unknown, unknown> {
  const onAbort = (): void => {
    session.abort(toPerimeterError(signal.reason));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) {
      onAbort();
    }
    for (;;) {
      const next = await session.next();
      if (!Array.isArray(next)) {
        return (next as { value: unknown }).value;
      }
      yield* next;
      session.pull();
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    session.end();
  }
}

function startOf(
  prepared: PreparedRun,
  credentials: Readonly<Record<string, SecretValue>>,
  ctx: ConnectorContext<unknown, unknown>,
  operation: StartRun['operation'],
  options: RunHostOptions,
): StartRun {
  return {
    runId: prepared.spec.runId,
    connector: prepared.connector.name,
    operation,
    settings: prepared.settings,
    credentials: Object.fromEntries(
      Object.entries(credentials).map(([name, secret]) => [name, secret.revealBytes()]),
    ),
    params: prepared.spec.params,
    cursor: ctx.cursor,
    policy: prepared.policy,
    rateLimit: prepared.rateLimit ?? prepared.connector.defaultRateLimit,
    logLevel: options.logger.level,
    logBindings: {
      component: 'connector',
      connector: prepared.connector.name,
      runId: prepared.spec.runId,
    },
  };
}

const METRIC_OPS = new Set(['inc', 'dec', 'set', 'observe']);

/** Log lines, metric updates and budget calls of a thread, served by the core. */
function handlersOf(options: RunHostOptions): SessionHandlers {
  return {
    onService: (message: FromThread, reply: (message: ToThread) => void) => {
      if (message.type === 'log') {
        options.writeLine(message.line);
      } else if (message.type === 'metric') {
        applyMetric(options.metrics, message);
      } else if (message.type === 'budget') {
        void serveBudget(options.budgetStore(), message).then(reply);
      }
    },
  };
}

function applyMetric(metrics: Metrics, message: Extract<FromThread, { type: 'metric' }>): void {
  if (!Object.hasOwn(metrics, message.name) || !METRIC_OPS.has(message.op)) {
    return;
  }
  const metric = (metrics as unknown as Record<string, Record<string, unknown>>)[message.name];
  const apply = metric?.[message.op];
  if (typeof apply === 'function') {
    (apply as (...args: unknown[]) => void).apply(metric, [...message.args]);
  }
}

async function serveBudget(
  store: BudgetStore,
  message: Extract<FromThread, { type: 'budget' }>,
): Promise<ToThread> {
  try {
    if (message.op === 'shrink') {
      await store.shrink(message.source, message.limit, message.retryAfterMs ?? 0);
      return { type: 'budgetReply', id: message.id };
    }
    const reservation = await store.reserve(
      message.source,
      message.limit,
      message.op === 'rereserve',
    );
    return { type: 'budgetReply', id: message.id, ...reservation };
  } catch (error) {
    return { type: 'budgetReply', id: message.id, error: toWire(error) };
  }
}

/** The heap cap of a connector's runs: the operator's, else the connector's, else the agent's. */
export function runMemoryMb(
  connector: Connector,
  settings: { readonly runMemoryMb: number },
  policy: { readonly runMemoryMb?: number | undefined } | undefined,
): number {
  return policy?.runMemoryMb ?? connector.defaultRunMemoryMb ?? settings.runMemoryMb;
}
