import { Writable } from 'node:stream';
import type { Logger as PinoLogger } from 'pino';
import { createLogger } from '../../agent/logging/logger.ts';
import { Redactor } from '../../agent/logging/redactor.ts';

/** A real root logger (all redaction layers) whose lines are kept in memory for assertions. */
export interface CapturedLogs {
  readonly logger: PinoLogger;
  readonly redactor: Redactor;
  /** Every line written so far, as written (after redaction). */
  readonly lines: string[];
  /** The lines parsed as JSON. */
  records(): Record<string, unknown>[];
  /** All lines joined, for canary scans. */
  text(): string;
}

export function captureLogs(options: { level?: 'debug' | 'info' | 'trace' } = {}): CapturedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (line !== '') {
          lines.push(line);
        }
      }
      callback();
    },
  });
  const redactor = new Redactor();
  const logger = createLogger({ level: options.level ?? 'debug', redactor, destination });
  return {
    logger,
    redactor,
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => lines.join('\n'),
  };
}
