// Composition root: the only module that touches process signals and the exit code.
// Imports only what parses the command line: connectors, stores, each command's modules and the
// logger are loaded once argv names a command, so `--version` and `--help` answer at once.
import { createRequire } from 'node:module';
import type * as Pino from 'pino';
import { connectorCatalog } from '../connectors/catalog.ts';
import { runCli } from './cli/cli.ts';
import type { CommandTable, RegistrySource } from './cli/cli.ts';
import type { CliIo } from './cli/io.ts';
import type { Registry } from './config/load.ts';
import { PerimeterError } from './plugin-api/errors.ts';
import { fatalStop } from './daemon/fatal.ts';

const require = createRequire(import.meta.url);

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGINT: 2, SIGTERM: 15 };
/**
 * Once the command returned, the event loop should end by itself; a handle left open by a hung
 * dependency (a socket that never closes) must not keep a stopped daemon alive.
 */
const EXIT_BACKSTOP_MS = 2_000;

/**
 * Runs the command line with the given connectors and stores. The first SIGINT/SIGTERM aborts
 * the command's signal (a run stops at a checkpoint; the daemon drains); a second one forces.
 * An uncaught exception or unhandled rejection aborts it too, with a fatal reason: the daemon
 * logs it `fatal`, drains, and the process exits 1. Nothing swallows them.
 */
export async function main(registry: RegistrySource, extra: CommandTable = {}): Promise<void> {
  const controller = new AbortController();
  const seen = { fatal: false };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
    }
    controller.abort(new PerimeterError('RUN_ABORTED', `Stopped by ${signal}`));
  };
  const onFatal = (error: unknown): void => {
    seen.fatal = true;
    if (!controller.signal.aborted) {
      controller.abort(fatalStop(error));
      return;
    }
    // Already stopping, so the command's logger may be gone: a line without the message,
    // which could quote a value, only the error's class.
    const name = error instanceof Error ? error.name : typeof error;
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), errorName: name, msg: 'Fatal error while stopping' })}\n`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  let logDestination: Pino.DestinationStream | undefined;
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    get logDestination() {
      logDestination ??= stderrDestination();
      return logDestination;
    },
    env: process.env,
    signal: controller.signal,
    cwd: process.cwd(),
    stdoutIsTTY: process.stdout.isTTY,
    stderrIsTTY: process.stderr.isTTY,
  };
  const code = await runCli(process.argv.slice(2), io, registry, extra);
  process.exitCode = seen.fatal ? Math.max(code, 1) : code;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  setTimeout(() => {
    process.exit();
  }, EXIT_BACKSTOP_MS).unref();
}

/** Log lines to stderr, written synchronously; pino is read on the first use. */
function stderrDestination(): Pino.DestinationStream {
  const { pino } = require('pino') as typeof Pino;
  return pino.destination({ dest: 2, sync: true });
}

/** The shipped agent: the registered connectors and secret stores (`bin/perimeter.js`). */
export async function mainWithDefaults(): Promise<void> {
  await main({ connectorSummaries: connectorCatalog, load: loadDefaultRegistry });
}

async function loadDefaultRegistry(): Promise<Registry> {
  const [{ connectors }, { secretStores }] = await Promise.all([
    import('../connectors/index.ts'),
    import('../secrets/index.ts'),
  ]);
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const connectorsModule = new URL(`../connectors/index.${extension}`, import.meta.url).href;
  return { connectors, stores: secretStores, connectorsModule };
}

if (import.meta.main) {
  await mainWithDefaults();
}
