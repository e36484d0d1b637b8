import type { z } from 'zod';
import { PerimeterError } from '../plugin-api/index.ts';
import type { ErrorCode } from '../plugin-api/index.ts';

/** One thing wrong with the configuration or a job file: where, what to do, and where to read. */
export interface ConfigProblem {
  /** Dotted key path (`catalog.url`), or an env var name, or a file name. */
  readonly path: string;
  /** What is wrong and what to do; never a value that could be a secret. */
  readonly message: string;
  /** The document that explains the key: `docs/secrets.md`, `connectors/cyera/README.md`. */
  readonly see?: string;
}

/** The documents a problem points at, so every pointer is spelled once. */
export const DOCS = {
  configuration: 'docs/configuration.md',
  environment: 'docs/configuration.md#environment-variables',
  connections: 'docs/configuration.md#connections',
  jobs: 'docs/configuration.md#jobs',
  policy: 'docs/configuration.md#policy',
  secrets: 'docs/secrets.md',
  jobFile: 'docs/job-file.md',
  connector: (name: string): string => `connectors/${name}/README.md`,
} as const;

/** The document for a config key path: its section's part of docs/configuration.md. */
export function docForPath(path: readonly PropertyKey[]): string {
  switch (path[0]) {
    case 'secretStores':
    case 'secrets':
      return DOCS.secrets;
    case 'connections':
      return DOCS.connections;
    case 'jobs':
      return DOCS.jobs;
    case 'policy':
      return DOCS.policy;
    case undefined:
      return DOCS.configuration;
    default:
      return `${DOCS.configuration}#${String(path[0]).toLowerCase()}`;
  }
}

/**
 * Renders a key path: `connections.cyera-prod.credentials.secret`, `jobs[2].id`; an empty key
 * (a YAML line `: x`) as `""`, so the problem still names where it is.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) =>
      typeof key === 'number'
        ? `[${key}]`
        : `${index === 0 ? '' : '.'}${key === '' ? '""' : String(key)}`,
    )
    .join('');
}

/**
 * Turns zod issues into problems under a path prefix, each pointing at `see` (by default the
 * config section's docs). zod's messages name expected types and allowed values, never the
 * value received, so they are safe to print.
 */
export function problemsFromZod(
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
  see?: string,
): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const doc = see ?? docForPath(path);
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => formatPath([...path, key]));
      return {
        path: keys.join(', '),
        message: `unknown key; remove it or correct its spelling`,
        see: doc,
      };
    }
    return { path: formatPath(path) || '(root)', message: issue.message, see: doc };
  });
}

/** Moves problems under a prefix: a job file's problems under its file name. */
export function problemsUnder(prefix: string, problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems.map((problem) => ({ ...problem, path: `${prefix}: ${problem.path}` }));
}

/** One line of a problem list: `  - path: message (see doc)`. */
export function formatProblem(problem: ConfigProblem): string {
  const see = problem.see === undefined ? '' : ` (see ${problem.see})`;
  return `  - ${problem.path}: ${problem.message}${see}`;
}

/** One error carrying every problem, one line each, so an operator fixes them all at once. */
export function problemsError(
  code: Extract<ErrorCode, 'CONFIG_INVALID' | 'JOB_INVALID'>,
  what: string,
  problems: readonly ConfigProblem[],
): PerimeterError {
  const noun = problems.length === 1 ? 'problem' : 'problems';
  const verb = what.includes(' and the ') ? 'have' : 'has';
  return new PerimeterError(
    code,
    `${what} ${verb} ${problems.length} ${noun}:\n${problems.map(formatProblem).join('\n')}`,
    { context: { problems: problems.map((problem) => problem.path) } },
  );
}
