import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { PerimeterError } from '../plugin-api/errors.ts';

/** Parsed command line. */
export interface CliArgs {
  readonly command: string | undefined;
  readonly positionals: readonly string[];
  readonly config: string | undefined;
  readonly output: string | undefined;
  readonly role: string | undefined;
  /** `perimeter runs list --state STATE`. */
  readonly state: string | undefined;
  readonly json: boolean;
  /** `ledger show --run ID`. */
  readonly run: string | undefined;
  /** `ledger show --since TIME` (ISO 8601). */
  readonly since: string | undefined;
  /** `ledger verify --file PATH`: a ledger file instead of Redis. */
  readonly file: string | undefined;
  /** `review --dir DIR`: the review area. */
  readonly dir: string | undefined;
  /** `review show --ndjson`: print the batches themselves. */
  readonly ndjson: boolean;
  /** Log lines of a one-shot command at the config's level (else none). */
  readonly verbose: boolean;
  /** Log lines of a one-shot command at this level. */
  readonly logLevel: LevelWithSilent | undefined;
}

const LOG_LEVELS: readonly LevelWithSilent[] = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
];

/** Parses the command line; throws on an unknown option. */
export function parseCommandLine(argv: readonly string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      output: { type: 'string' },
      role: { type: 'string' },
      state: { type: 'string' },
      run: { type: 'string' },
      since: { type: 'string' },
      file: { type: 'string' },
      dir: { type: 'string' },
      ndjson: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  return {
    command: positionals[0],
    positionals: positionals.slice(1),
    config: values.config,
    output: values.output,
    role: values.role,
    state: values.state,
    json: values.json,
    run: values.run,
    since: values.since,
    file: values.file,
    dir: values.dir,
    ndjson: values.ndjson,
    verbose: values.verbose,
    logLevel: logLevelOf(values['log-level']),
  };
}

function logLevelOf(value: string | undefined): LevelWithSilent | undefined {
  if (value === undefined) {
    return undefined;
  }
  const level = LOG_LEVELS.find((candidate) => candidate === value);
  if (level === undefined) {
    throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return level;
}

/** Checks a command's positional arguments; a missing JOB_FILE is bad input. */
export function requirePositional(args: CliArgs, name: string, usage: string): string {
  const value = args.positionals[0];
  if (value === undefined) {
    throw new PerimeterError('JOB_INVALID', `${name} is missing. Usage: ${usage}`);
  }
  return value;
}
