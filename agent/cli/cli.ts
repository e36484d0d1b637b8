import type { Registry } from '../config/load.ts';
import { ERROR_CODES, toPerimeterError } from '../plugin-api/index.ts';
import { VERSION } from '../version.ts';
import { checkCommand } from './check.ts';
import { ledgerCommand } from './ledger.ts';
import { reviewCommand } from './review.ts';
import { discoverCommand, runCommand } from './run.ts';
import { runsCommand } from './runs.ts';
import { schedulesCommand } from './schedules.ts';
import { startCommand } from './start.ts';
import { helpText } from './help.ts';
import { parseCommandLine } from './args.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';

/** A command: returns the process exit code. */
export type Command = (args: CliArgs, io: CliIo, registry: Registry) => Promise<number>;

/** Extra commands a test entry or another build adds. */
export type CommandTable = Readonly<Record<string, Command>>;

const BASE_COMMANDS: CommandTable = {
  run: runCommand,
  check: checkCommand,
  discover: discoverCommand,
  start: startCommand,
  runs: runsCommand,
  schedules: schedulesCommand,
  ledger: ledgerCommand,
  review: reviewCommand,
};

/**
 * Runs the command line and returns the exit code: 0 success, 1 failure, 2 bad input. Errors
 * print their code, message and what to do, never a secret or a response body.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  registry: Registry,
  extra: CommandTable = {},
): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCommandLine(argv);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\nRun perimeter --help for usage.\n`);
    return 2;
  }
  const commands = { ...BASE_COMMANDS, ...extra };
  if (argv.includes('--version') || argv.includes('-v') || args.command === 'version') {
    io.stdout(`perimeter ${VERSION}\n`);
    return 0;
  }
  const askedForHelp = argv.includes('--help') || argv.includes('-h') || args.command === 'help';
  if (askedForHelp || args.command === undefined) {
    io.stdout(helpText(registry.connectors));
    return askedForHelp ? 0 : 2;
  }
  const command = commands[args.command];
  if (command === undefined) {
    io.stderr(
      `error: unknown command "${args.command}"; commands: ${Object.keys(commands).join(', ')}\nRun perimeter --help for usage.\n`,
    );
    return 2;
  }
  try {
    return await command(args, io, registry);
  } catch (error) {
    return reportError(io, error);
  }
}

/** Prints an error as `error CODE: message` and what to do; returns its exit code. */
export function reportError(io: CliIo, error: unknown): number {
  const failure = toPerimeterError(error);
  io.stderr(`error ${failure.code}: ${failure.message}\n  what to do: ${failure.action}\n`);
  return ERROR_CODES[failure.code].exitCode;
}
