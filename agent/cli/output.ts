import { styleText } from 'node:util';
import type { LevelWithSilent } from 'pino';
import type { RunProgress } from '../run/types.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';

/**
 * How one-shot commands (`run`, `check`, `discover`) print for a person: aligned columns, colour
 * only when stdout is a terminal (and NO_COLOR is unset), a progress line on a terminal's stderr,
 * `--json` for machines. Log lines only when asked (`--verbose` or `--log-level`); the daemon
 * keeps its JSON lines and does not use this.
 */
export interface Output {
  /** `--json`: print documents, not lines. */
  readonly json: boolean;
  /** Aligned rows: every column but the last padded to its widest cell. */
  rows(rows: readonly (readonly string[])[]): void;
  /** One line as is. */
  line(text: string): void;
  /** A JSON document on stdout. */
  data(value: unknown): void;
  /** `ok` / `FAIL`, green or red on a terminal. */
  status(ok: boolean): string;
  /** Styled for a terminal (`bold`, `dim`, `green`, `red`, `yellow`); plain otherwise. */
  style(format: StyleFormat, text: string): string;
  /** A progress line redrawn in place on stderr, on a terminal only; `done()` clears it. */
  progress(): ProgressLine;
}

export type StyleFormat = 'bold' | 'dim' | 'green' | 'red' | 'yellow';

/** Progress of a run as it goes. */
export interface ProgressLine {
  update(progress: RunProgress): void;
  done(): void;
}

const ERASE_LINE = '\u001b[2K\r';

/** The output of a one-shot command, from its streams and `--json`. */
export function createOutput(io: CliIo, args: Pick<CliArgs, 'json'>): Output {
  const colour = io.stdoutIsTTY === true && io.env['NO_COLOR'] === undefined;
  const style = (format: StyleFormat, text: string): string =>
    colour ? styleText(format, text, { validateStream: false }) : text;
  return {
    json: args.json,
    rows: (rows) => {
      io.stdout(alignRows(rows).join(''));
    },
    line: (text) => {
      io.stdout(`${text}\n`);
    },
    data: (value) => {
      io.stdout(`${JSON.stringify(value, null, 2)}\n`);
    },
    status: (ok) => (ok ? style('green', 'ok  ') : style('red', 'FAIL')),
    style,
    progress: () => (io.stderrIsTTY === true && !args.json ? progressLine(io) : SILENT_PROGRESS),
  };
}

/** Rows as lines: every column but the last padded to its widest cell (escape codes not counted). */
export function alignRows(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, visibleLength(cell));
    });
  }
  return rows.map(
    (row) =>
      `${row
        .map((cell, index) =>
          index === row.length - 1
            ? cell
            : cell + ' '.repeat((widths[index] ?? 0) - visibleLength(cell)),
        )
        .join('  ')
        .trimEnd()}\n`,
  );
}

/**
 * The log level of a one-shot command: `--log-level` when given, the config's with `--verbose`
 * (undefined), and `silent` otherwise, so a person sees results and errors, not log lines.
 */
export function commandLogLevel(
  args: Pick<CliArgs, 'verbose' | 'logLevel'>,
): LevelWithSilent | undefined {
  if (args.logLevel !== undefined) {
    return args.logLevel;
  }
  return args.verbose ? undefined : 'silent';
}

/** `  1,234 assets  7 batches  310 KiB  520 assets/s` */
export function progressText(progress: RunProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((progress.assets * 1000) / elapsedMs) : 0;
  const kib = Math.round(progress.bytes / 1024);
  return `  ${progress.assets.toLocaleString('en')} assets  ${String(progress.batches)} batches  ${kib.toLocaleString('en')} KiB  ${rate.toLocaleString('en')} assets/s`;
}

const SILENT_PROGRESS: ProgressLine = {
  update: () => undefined,
  done: () => undefined,
};

function progressLine(io: CliIo): ProgressLine {
  const startedMs = performance.now();
  let shown = false;
  return {
    update: (progress) => {
      shown = true;
      io.stderr(`${ERASE_LINE}${progressText(progress, performance.now() - startedMs)}`);
    },
    done: () => {
      if (shown) {
        shown = false;
        io.stderr(ERASE_LINE);
      }
    },
  };
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex -- SGR escape codes take no columns
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}
