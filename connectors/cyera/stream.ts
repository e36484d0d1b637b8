import {
  PerimeterError,
  backoffDelayMs,
  isPerimeterError,
  sleep,
} from '../../agent/plugin-api/index.ts';
import type { HttpResponse, Logger } from '../../agent/plugin-api/index.ts';
import { ENDPOINTS } from './client.ts';
import type { CyeraConfig } from './config.ts';
import { TableLineSchema } from './records.ts';
import type { TableLine } from './records.ts';
import { readTableLine } from './table-line.ts';

/** Where a resumed run picks the stream up: after `records` records, the last one `lastKey`. */
export interface StreamResume {
  readonly records: number;
  readonly lastKey: string;
  /** Called with each table skipped on the way, so the caller can rebuild what it emitted. */
  onSkipped(table: TableLine): void;
}

/** A table of the stream, with the position a checkpoint needs to resume right after it. */
export interface StreamedTable {
  readonly table: TableLine;
  /** Records consumed so far (tables of other datastores included). */
  readonly records: number;
  /** Identity of this record, checked when a stream is re-opened after it. */
  readonly key: string;
}

/** What {@link streamTables} needs. */
export interface TableStreamOptions {
  readonly datastoreUid: string;
  /** Resume after a checkpoint, instead of from the first table. */
  readonly resume?: StreamResume;
  /** Opens the stream (authenticated; re-logs in after a 401). Called again to resume. */
  readonly open: () => Promise<HttpResponse>;
  readonly retry: CyeraConfig['stream'];
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** How far one datastore's stream got: records consumed, and the last one's identity. */
interface Progress {
  records: number;
  lastKey: string | undefined;
  /** True until the records of a resumed checkpoint were replayed to `resume.onSkipped`. */
  replaying: boolean;
  /** Lines that belonged to another datastore (the server ignored the filter). */
  foreign: number;
}

/**
 * The tables of one datastore, each exactly once, parsed line by line as they arrive. A dropped
 * connection, a 429 or 5xx on re-opening, or a body that ends before its `x-total-count`
 * re-opens the stream and skips the records already consumed (the stream order is
 * deterministic; the last skipped record is checked to be the last one consumed). Consecutive
 * interruptions without progress are bounded by `retry.maxRetries`, with backoff honouring
 * `Retry-After` (a longer wait than `retry.maxRetryDelayMs` ends the run, which the queue
 * reschedules) and `signal`. With `resume`, the first opening skips to a checkpoint the same way.
 */
export async function* streamTables(options: TableStreamOptions): AsyncGenerator<StreamedTable> {
  const { resume } = options;
  const progress: Progress = {
    records: resume?.records ?? 0,
    lastKey: resume?.lastKey,
    replaying: resume !== undefined && resume.records > 0,
    foreign: 0,
  };
  let failures = 0;
  let interrupted = false;
  for (;;) {
    const before = progress.records;
    let opened = false;
    try {
      const response = await options.open();
      opened = true;
      yield* readTables(response, progress, options);
      break;
    } catch (error) {
      // A failure to open the first time was already retried by the HTTP client.
      if (!isInterruption(error) || (!opened && !interrupted) || options.signal.aborted) {
        throw error;
      }
      interrupted = true;
      failures = progress.records > before ? 1 : failures + 1;
      const tooLong = (error.retryAfterMs ?? 0) > options.retry.maxRetryDelayMs;
      if (failures > options.retry.maxRetries || tooLong) {
        throw error;
      }
      await backOff(error, failures, progress, options);
    }
  }
  if (progress.foreign > 0) {
    options.logger.warn(
      { endpoint: ENDPOINTS.tables, datastoreUid: options.datastoreUid, lines: progress.foreign },
      'Cyera table stream held tables of other datastores; they were skipped',
    );
  }
}

function isInterruption(error: unknown): error is PerimeterError {
  return isPerimeterError(error, 'SOURCE_UNAVAILABLE', 'SOURCE_RATE_LIMITED') && error.retryable;
}

async function backOff(
  error: PerimeterError,
  failures: number,
  progress: Progress,
  options: TableStreamOptions,
): Promise<void> {
  const { retryDelayMs, maxRetryDelayMs } = options.retry;
  const policy = { baseMs: retryDelayMs, maxMs: maxRetryDelayMs };
  const delayMs = backoffDelayMs(policy, failures, { retryAfterMs: error.retryAfterMs });
  options.logger.warn(
    {
      endpoint: ENDPOINTS.tables,
      datastoreUid: options.datastoreUid,
      code: error.code,
      records: progress.records,
      attempt: failures,
      delayMs,
    },
    'Cyera table stream interrupted; re-opening it',
  );
  await sleep(delayMs, { signal: options.signal });
}

async function* readTables(
  response: HttpResponse,
  progress: Progress,
  options: TableStreamOptions,
): AsyncGenerator<StreamedTable> {
  const announced = Number(response.headers['x-total-count'] ?? Number.NaN);
  const skip = progress.records;
  let seen = 0;
  for await (const { line, lineNumber } of response.lines()) {
    if (line.trim() === '') {
      continue;
    }
    seen += 1;
    if (seen < skip && !progress.replaying) {
      continue;
    }
    const table = parseTable(line, lineNumber, options.datastoreUid);
    const foreign = table.datastoreUid != null && table.datastoreUid !== options.datastoreUid;
    if (seen <= skip) {
      replaySkipped(table, foreign, seen === skip, progress, options);
      continue;
    }
    progress.records += 1;
    progress.lastKey = keyOf(table);
    if (foreign) {
      progress.foreign += 1;
      continue;
    }
    yield { table, records: progress.records, key: progress.lastKey };
  }
  if (seen < skip) {
    throw streamChanged(options.datastoreUid, progress);
  }
  if (Number.isInteger(announced) && seen < announced) {
    throw new PerimeterError(
      'SOURCE_UNAVAILABLE',
      `${ENDPOINTS.tables} ended before its last table for datastore ${options.datastoreUid}`,
      { context: streamContext(options.datastoreUid, { tables: seen, expectedTables: announced }) },
    );
  }
}

/** A record before the resume point: handed to `onSkipped` once; the last one is checked. */
function replaySkipped(
  table: TableLine,
  foreign: boolean,
  last: boolean,
  progress: Progress,
  options: TableStreamOptions,
): void {
  if (progress.replaying && !foreign) {
    options.resume?.onSkipped(table);
  }
  if (last) {
    if (keyOf(table) !== progress.lastKey) {
      throw streamChanged(options.datastoreUid, progress);
    }
    progress.replaying = false;
  }
}

/**
 * Parses one line (the compiled check first, the zod schema for the detail when it refuses); the
 * message names the endpoint and line number, never the line itself.
 */
export function parseTable(line: string, lineNumber: number, datastoreUid: string): TableLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // The SyntaxError quotes the line, so it is not kept as the cause.
    throw malformedLine(lineNumber, datastoreUid, 'is not JSON', []);
  }
  const table = readTableLine(value);
  if (table !== undefined) {
    return table;
  }
  const parsed = TableLineSchema.safeParse(value);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    throw malformedLine(lineNumber, datastoreUid, 'does not match the table shape', paths);
  }
  return parsed.data;
}

function malformedLine(
  lineNumber: number,
  datastoreUid: string,
  problem: string,
  paths: readonly string[],
): PerimeterError {
  const where = paths.length > 0 ? ` (at ${paths.slice(0, 5).join(', ')})` : '';
  return new PerimeterError(
    'SOURCE_RESPONSE_INVALID',
    `${ENDPOINTS.tables} line ${lineNumber} ${problem}${where}, for datastore ${datastoreUid}`,
    { context: streamContext(datastoreUid, { lineNumber, issues: paths.slice(0, 20) }) },
  );
}

/** The identity of a stream record: its uid, else its database, schema and table names. */
export function keyOf(table: TableLine): string {
  return table.uid ?? [table.databaseName, table.schemaName, table.tableName].join('\u0000');
}

// The source changed since the records were first read: skipping by count would lose or repeat
// tables, and the batches after the checkpoint would no longer match. A new run starts afresh.
function streamChanged(datastoreUid: string, progress: Progress): PerimeterError {
  return new PerimeterError(
    'SOURCE_RESPONSE_INVALID',
    `${ENDPOINTS.tables} changed for datastore ${datastoreUid} while it was being read (the table before the resume point differs or is gone); start a new run`,
    { context: streamContext(datastoreUid, { records: progress.records }) },
  );
}

function streamContext(
  datastoreUid: string,
  extra: Record<string, number | readonly string[]>,
): Record<string, string | number | readonly string[]> {
  return { endpoint: ENDPOINTS.tables, datastoreUid, ...extra };
}
