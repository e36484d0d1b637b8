import { ERROR_CODES } from '../../agent/plugin-api/errors.ts';

/** Renders docs/errors.md from ERROR_CODES, the single source of the code table. */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, info]) =>
      `| \`${code}\` | ${info.retryable ? 'yes' : 'no'} | ${info.exitCode} | ${info.action.replaceAll('|', '\\|')} |`,
  );
  return [
    '# Error codes',
    '',
    'Every failure Perimeter reports carries one of these codes: in log lines (`err.code`), in run',
    'events sent to the control plane, in `/status`, and on the CLI (`error CODE: message`, then the',
    'sentence below). *Retryable* errors are retried by the queue with exponential backoff and jitter',
    '(honouring `Retry-After`); the others fail the run at once. *Exit* is the CLI exit code when a',
    'command ends on that error (2 = bad input, 1 = the run failed).',
    '',
    'Errors never carry secret values, response bodies or header values: only ids, paths, statuses',
    'and counts (`err.context`).',
    '',
    '| code | retryable | exit | what is wrong and what to do |',
    '|---|---|---|---|',
    ...rows,
    '',
    '<!-- Generated from agent/plugin-api/errors.ts by `npm run docs:gen`; a test keeps it in step. -->',
    '',
  ].join('\n');
}
