import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger, LevelWithSilent } from 'pino';
import type { Redactor } from './redactor.ts';

/** Key paths censored in every log line, a backstop for values that never were SecretValues. */
export const REDACTED_KEY_PATHS = [
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  'cookie',
  '*.cookie',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'clientSecret',
  '*.clientSecret',
  'credentials',
  '*.credentials',
  'body',
  '*.body',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LevelWithSilent;
  readonly redactor: Redactor;
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  readonly destination?: DestinationStream;
  readonly base?: Record<string, string | number>;
}

/**
 * The one root logger: JSON lines, errors with their cause chain, the key-path layer, and the
 * value layer applied to each finished line.
 */
export function createLogger(options: LoggerOptions): PinoLogger {
  const { redactor } = options;
  return pino(
    {
      level: options.level,
      base: options.base ?? {},
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.errWithCause },
      redact: { paths: REDACTED_KEY_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (line) => redactor.redact(line) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
