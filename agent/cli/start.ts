import type { DestinationStream } from 'pino';
import type { Registry } from '../config/load.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { Roles } from '../daemon/setup.ts';
import { runDaemon } from '../daemon/daemon.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { openSession } from './session.ts';

const ROLES: Readonly<Record<string, Roles>> = {
  all: { link: true, worker: true },
  link: { link: true, worker: false },
  worker: { link: false, worker: true },
};

/**
 * `perimeter start [--role link|worker|all] [--config FILE]`: the daemon. Logs are JSON lines
 * on stdout. Returns when it stopped: 0 after a clean drain, 1 otherwise.
 */
export async function startCommand(args: CliArgs, io: CliIo, registry: Registry): Promise<number> {
  if (args.output !== undefined) {
    // Accepting it silently would let an operator believe nothing leaves; it does.
    throw new PerimeterError(
      'OUTPUT_NOT_SUPPORTED',
      'perimeter start does not take --output; to hold extracts for an operator before they are pushed, set review.mode (first or every) and review.dir in the configuration, then use perimeter review list|show|approve|reject',
      { context: { option: '--output' } },
    );
  }
  const roles = parseRole(args.role);
  const session = await openSession({ ...io, logDestination: lineDestination(io) }, registry, {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    // A link-only process runs nothing, so it needs no catalog.
    output: roles.worker ? { kind: 'catalog' } : { kind: 'none' },
    processMetrics: true,
    isolateRuns: roles.worker,
  });
  try {
    return await runDaemon({
      config: session.config,
      logger: session.logger,
      metrics: session.metrics,
      runtime: session.runtime,
      roles,
      signal: io.signal,
    });
  } finally {
    await session.runtime.close();
  }
}

/** `--role`: all (default), link or worker. Anything else is bad input. */
export function parseRole(role: string | undefined): Roles {
  const roles = ROLES[role ?? 'all'];
  if (roles === undefined) {
    throw new PerimeterError('CONFIG_INVALID', '--role must be link, worker or all', {
      context: { problems: ['--role'] },
    });
  }
  return roles;
}

/** The daemon's log lines go to stdout, where container runtimes collect them. */
function lineDestination(io: CliIo): DestinationStream {
  return {
    write: (line: string) => {
      io.stdout(line);
    },
  };
}
