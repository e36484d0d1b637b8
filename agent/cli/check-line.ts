import { toPerimeterError } from '../plugin-api/index.ts';

/** One line of `perimeter check`. */
export interface CheckLine {
  readonly ok: boolean;
  readonly check: 'config' | 'job' | 'secret' | 'store' | 'reach' | 'auth' | 'redis' | 'source';
  readonly subject: string;
  readonly detail: string;
  readonly code?: string;
  /** Passes, but something deserves the operator's attention (said in `detail`). */
  readonly warning?: true;
}

/** The line of a check that threw: its code, message and what to do. */
export function failure(check: CheckLine['check'], subject: string, error: unknown): CheckLine {
  const failed = toPerimeterError(error);
  return {
    ok: false,
    check,
    subject,
    detail: `${failed.message} (what to do: ${failed.action})`,
    code: failed.code,
  };
}

/** `ok`, `WARN` or `FAIL`, the check, the subject, then the code and detail. */
export function formatLine(line: CheckLine): string {
  const status = line.ok ? (line.warning === true ? 'WARN' : 'ok  ') : 'FAIL';
  const code = line.code === undefined ? '' : `${line.code}: `;
  return `${status}  ${line.check.padEnd(6)}  ${line.subject}  ${code}${line.detail}\n`;
}
