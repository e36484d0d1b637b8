import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { CyeraFaults } from './control.ts';
import type { CyeraSimulatorStats, TokenStore } from './control.ts';
import type { SimulatedTenant } from './tenant.ts';
import { MALFORMED_MARKER } from './vocabulary.ts';

/** How the NDJSON of `GET /v1/tables/stream` is laid out on the wire. */
export interface StreamLayout {
  /** `\n` or `\r\n`. */
  readonly lineEnding: string;
  /** A blank line before every Nth table (0: none). */
  readonly blankLineEvery: number;
  /** When set, bytes go out in writes of this size, one per event-loop turn (splits characters). */
  readonly chunkBytes: number | undefined;
  /** Sends `x-total-count` (the number of table lines) so a short stream can be told. */
  readonly announceTotal: boolean;
}

/** Everything one stream response needs. */
export interface StreamJob {
  readonly tenant: SimulatedTenant;
  readonly datastoreIndexes: readonly number[];
  readonly layout: StreamLayout;
  readonly faults: CyeraFaults;
  readonly tokens: TokenStore;
  readonly stats: CyeraSimulatorStats;
  /** Aborted when the simulator closes. */
  readonly signal: AbortSignal;
}

const FLUSH_CHARS = 64 * 1024;

/**
 * Streams one table per line, generated lazily (memory stays flat for millions of columns) and
 * written with backpressure. Faults: a malformed line at N, a connection dropped mid-line after N
 * lines, tokens revoked and the body ended early after N lines, a delay per line.
 */
export async function writeTableStream(response: ServerResponse, job: StreamJob): Promise<void> {
  const { tenant, layout, faults, stats } = job;
  stats.streamsOpened += 1;
  const total = job.datastoreIndexes.length * tenant.tablesPerDatastore;
  response.writeHead(200, {
    'content-type': 'application/x-ndjson',
    ...(layout.announceTotal ? { 'x-total-count': String(total) } : {}),
  });
  const writer = new LineWriter(response, job);
  let lineNumber = 0;
  let tables = 0;
  for (const ds of job.datastoreIndexes) {
    for (let t = 0; t < tenant.tablesPerDatastore; t += 1) {
      const lines = layout.blankLineEvery > 0 && tables % layout.blankLineEvery === 0 ? [''] : [];
      lines.push(JSON.stringify(tenant.table(ds, t)));
      tables += 1;
      for (const line of lines) {
        lineNumber += 1;
        if (CyeraFaults.fires(faults.drop, lineNumber - 1)) {
          await writer.breakMidLine(line);
          return;
        }
        if (CyeraFaults.fires(faults.expireMidStream, lineNumber - 1)) {
          // The session ends: tokens stop working and the body ends cleanly, but early.
          job.tokens.revokeAll();
          await writer.end();
          stats.streamsBroken += 1;
          return;
        }
        const malformed = isMalformed(faults, lineNumber, tenant.datastoreUid(ds));
        if (!(await writer.write(malformed ? `{"tableName":"${MALFORMED_MARKER}",` : line))) {
          return;
        }
      }
    }
  }
  await writer.end();
  stats.streamsCompleted += 1;
}

function isMalformed(faults: CyeraFaults, lineNumber: number, datastoreUid: string): boolean {
  const { malformed } = faults;
  return (
    malformed?.lineNumber === lineNumber &&
    (malformed.datastoreUid === undefined || malformed.datastoreUid === datastoreUid)
  );
}

/** Buffers lines into large writes, honours backpressure, and breaks a connection on demand. */
class LineWriter {
  readonly #response: ServerResponse;
  readonly #job: StreamJob;
  #pending = '';

  constructor(response: ServerResponse, job: StreamJob) {
    this.#response = response;
    this.#job = job;
  }

  /** Queues one line; false once the client has gone away. */
  async write(line: string): Promise<boolean> {
    this.#pending += line + this.#job.layout.lineEnding;
    this.#job.stats.linesStreamed += 1;
    if (this.#job.faults.slowMs > 0) {
      await this.flush();
      await sleep(this.#job.faults.slowMs, undefined, { signal: this.#job.signal }).catch(
        () => undefined,
      );
    } else if (this.#pending.length >= FLUSH_CHARS) {
      await this.flush();
    }
    return !this.#response.destroyed && !this.#job.signal.aborted;
  }

  async flush(): Promise<void> {
    const bytes = Buffer.from(this.#pending, 'utf8');
    this.#pending = '';
    this.#job.stats.bytesStreamed += bytes.length;
    const size = this.#job.layout.chunkBytes ?? bytes.length;
    for (let start = 0; start < bytes.length && !this.#response.destroyed; start += size) {
      if (!this.#response.write(bytes.subarray(start, start + size))) {
        await drained(this.#response);
      }
      if (this.#job.layout.chunkBytes !== undefined) {
        await nextTurn();
      }
    }
  }

  async end(): Promise<void> {
    await this.flush();
    this.#response.end();
  }

  /** Sends half of `line`, then drops the connection without ending the chunked body. */
  async breakMidLine(line: string): Promise<void> {
    this.#pending += line.slice(0, Math.floor(line.length / 2));
    await this.flush();
    this.#job.stats.streamsBroken += 1;
    // Let the bytes leave before the reset, so the client sees a partial line, then an error.
    await sleep(5);
    this.#response.socket?.destroy();
  }
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
