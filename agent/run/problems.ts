import type { z } from 'zod';
import { PerimeterError } from '../plugin-api/index.ts';
import type { ErrorCode } from '../plugin-api/index.ts';

/** One thing wrong with the configuration or a job file: where, and what to do. */
export interface ConfigProblem {
  /** Dotted key path (`catalog.url`), or an env var name, or a file name. */
  readonly path: string;
  readonly message: string;
}

/** Renders a key path: `connections.cyera-prod.credentials.secret`, `jobs[2].id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) =>
      typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`,
    )
    .join('');
}

/**
 * Turns zod issues into problems under a path prefix. zod's messages name expected types and
 * allowed values, never the value received, so they are safe to print.
 */
export function problemsFromZod(
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => formatPath([...path, key]));
      return {
        path: keys.join(', '),
        message: `unknown key; remove it or check its spelling against docs/configuration.md`,
      };
    }
    return { path: formatPath(path) || '(root)', message: issue.message };
  });
}

/** One error carrying every problem, one line each, so an operator fixes them all at once. */
export function problemsError(
  code: Extract<ErrorCode, 'CONFIG_INVALID' | 'JOB_INVALID'>,
  what: string,
  problems: readonly ConfigProblem[],
): PerimeterError {
  const lines = problems.map((problem) => `  - ${problem.path}: ${problem.message}`);
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return new PerimeterError(code, `${what} has ${problems.length} ${noun}:\n${lines.join('\n')}`, {
    context: { problems: problems.map((problem) => problem.path) },
  });
}
