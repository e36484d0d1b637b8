// Loads nothing but argument parsing, the version and the help text until a command is chosen:
// `--version` and `--help` answer before any connector, store, schema, queue or server module
// is read. Each command's module, and the registry itself, is imported when the command runs.
import type { Registry } from '../config/load.ts';
import { ERROR_CODES, toPerimeterError } from '../plugin-api/errors.ts';
import { VERSION } from '../version.ts';
import { commandHelpText, helpText } from './help.ts';
import type { ConnectorSummary } from './help.ts';
import { parseCommandLine } from './args.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';

/** A command: returns the process exit code. */
export type Command = (args: CliArgs, io: CliIo, registry: Registry) => Promise<number>;

/** Extra commands a test entry or another build adds. */
export type CommandTable = Readonly<Record<string, Command>>;

/**
 * The registry, or what `--help` needs of it (each connector's name and version) plus a way to
 * import the whole of it once a command runs.
 */
export type RegistrySource =
  | Registry
  | {
      readonly connectorSummaries: readonly ConnectorSummary[];
      load(): Promise<Registry>;
    };

const BASE_COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  run: async () => (await import('./run.ts')).runCommand,
  check: async () => (await import('./check.ts')).checkCommand,
  discover: async () => (await import('./run.ts')).discoverCommand,
  start: async () => (await import('./start.ts')).startCommand,
  runs: async () => (await import('./runs.ts')).runsCommand,
  schedules: async () => (await import('./schedules.ts')).schedulesCommand,
  ledger: async () => (await import('./ledger.ts')).ledgerCommand,
  review: async () => (await import('./review.ts')).reviewCommand,
};

/**
 * Runs the command line and returns the exit code: 0 success, 1 failure, 2 bad input. Errors
 * print their code, message and what to do, never a secret or a response body.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  registry: RegistrySource,
  extra: CommandTable = {},
): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCommandLine(argv);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\nRun perimeter --help for usage.\n`);
    return 2;
  }
  if (argv.includes('--version') || argv.includes('-v') || args.command === 'version') {
    io.stdout(`perimeter ${VERSION}\n`);
    return 0;
  }
  const askedForHelp = argv.includes('--help') || argv.includes('-h') || args.command === 'help';
  if (askedForHelp || args.command === undefined) {
    io.stdout(commandHelpText(args.command ?? '') ?? helpText(summaries(registry)));
    return askedForHelp ? 0 : 2;
  }
  const name = args.command;
  const extraCommand = extra[name];
  const loadCommand =
    extraCommand === undefined ? BASE_COMMANDS[name] : () => Promise.resolve(extraCommand);
  if (loadCommand === undefined) {
    const names = [...new Set([...Object.keys(BASE_COMMANDS), ...Object.keys(extra)])];
    io.stderr(
      `error: unknown command "${name}"; commands: ${names.join(', ')}\nRun perimeter --help for usage.\n`,
    );
    return 2;
  }
  try {
    const [command, loaded] = await Promise.all([loadCommand(), loadRegistry(registry)]);
    return await command(args, io, loaded);
  } catch (error) {
    return reportError(io, error);
  }
}

function summaries(registry: RegistrySource): readonly ConnectorSummary[] {
  return 'load' in registry ? registry.connectorSummaries : registry.connectors;
}

async function loadRegistry(registry: RegistrySource): Promise<Registry> {
  return 'load' in registry ? registry.load() : registry;
}

/** Prints an error as `error CODE: message` and what to do; returns its exit code. */
export function reportError(io: CliIo, error: unknown): number {
  const failure = toPerimeterError(error);
  io.stderr(`error ${failure.code}: ${failure.message}\n  what to do: ${failure.action}\n`);
  return ERROR_CODES[failure.code].exitCode;
}
