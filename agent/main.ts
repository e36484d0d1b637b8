// Composition root: the only module that touches process signals and the exit code.
import { pino } from 'pino';
import { connectors } from '../connectors/index.ts';
import { secretStores } from '../secrets/index.ts';
import { runCli } from './cli/cli.ts';
import type { CommandTable } from './cli/cli.ts';
import type { CliIo } from './cli/io.ts';
import type { Registry } from './config/load.ts';
import { PerimeterError } from './plugin-api/index.ts';

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGINT: 2, SIGTERM: 15 };

/**
 * Runs the command line with the given connectors and stores. The first SIGINT/SIGTERM aborts
 * the command's signal (a run stops at a checkpoint; the daemon drains); a second one forces.
 */
export async function main(registry: Registry, extra: CommandTable = {}): Promise<void> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
    }
    controller.abort(new PerimeterError('RUN_ABORTED', `Stopped by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    logDestination: pino.destination({ dest: 2, sync: true }),
    env: process.env,
    signal: controller.signal,
    cwd: process.cwd(),
  };
  process.exitCode = await runCli(process.argv.slice(2), io, registry, extra);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

if (import.meta.main) {
  await main({ connectors, stores: secretStores });
}
