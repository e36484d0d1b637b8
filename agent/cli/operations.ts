import type { Registry } from '../config/load.ts';
import type { AgentConfig } from '../config/schema.ts';
import { openOperations } from '../daemon/operations.ts';
import type { Operations } from '../daemon/operations.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { ConnectorOf } from '../queue/inspect.ts';
import { redisOperation } from '../queue/wait.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { openSession } from './session.ts';

/** Longest one Redis call of an operations command may take. */
const REDIS_CALL_TIMEOUT_MS = 10_000;

/** What an operations command (`runs`, `schedules`) works with. */
export interface OperationsContext {
  readonly config: AgentConfig;
  readonly operations: Operations;
  readonly connectorOf: ConnectorOf;
  /** Runs a Redis call bounded in time: an outage fails it as REDIS_UNAVAILABLE. */
  call<T>(operation: Promise<T>, what: string): Promise<T>;
}

/**
 * Loads the configuration as `perimeter start` does (--config, PERIMETER_CONFIG, environment),
 * opens the queue with its Redis settings and prefix, runs `work`, and closes everything
 * (bounded) whatever happens. Log lines below `error` are left out: the command prints its own.
 */
export async function withOperations<T>(
  args: CliArgs,
  io: CliIo,
  registry: Registry,
  work: (context: OperationsContext) => Promise<T>,
): Promise<T> {
  const session = await openSession(io, registry, {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    output: { kind: 'none' },
    logLevel: 'error',
  });
  try {
    const { config } = session;
    const operations = await openOperations({
      config,
      resolver: session.runtime.resolver,
      logger: session.logger,
      signal: io.signal,
    });
    try {
      return await work({
        config,
        operations,
        connectorOf: (id) => config.connections[id]?.connector,
        call: (operation, what) => redisOperation(operation, what, REDIS_CALL_TIMEOUT_MS),
      });
    } finally {
      await operations.close();
    }
  } finally {
    await session.runtime.close();
  }
}

/** Bad input on the command line: exit 2, with the command's usage. */
export function argumentError(problem: string, usage: string): PerimeterError {
  return new PerimeterError('ARGUMENT_INVALID', `${problem}. Usage: ${usage}`);
}
