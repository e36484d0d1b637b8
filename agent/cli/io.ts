import type { DestinationStream } from 'pino';

/** What a CLI command may touch: its streams, the environment, and a stop signal. */
export interface CliIo {
  /** Human-readable results. */
  stdout(text: string): void;
  /** Errors for the operator. */
  stderr(text: string): void;
  /** Where the JSON log lines go (stderr for one-shot commands, stdout for the daemon). */
  readonly logDestination: DestinationStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted by SIGINT/SIGTERM (main.ts). */
  readonly signal: AbortSignal;
  readonly cwd: string;
  /** Whether stdout / stderr are terminals: colour and the progress line only then. */
  readonly stdoutIsTTY?: boolean;
  readonly stderrIsTTY?: boolean;
}
