import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Gzip } from 'node:zlib';
import type { BatchBody } from './types.ts';

/** Uncompressed bytes queued for zlib before `append` waits. */
const MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * A batch body compressed as it fills: only the gzip output is kept, so a batch in memory costs
 * its compressed size plus at most about 1 MiB queued for zlib, not its NDJSON size. Lines arrive in
 * chunks (the sink gathers them), one zlib call each. The finished Buffer is sent as is on every
 * retry, so a retried batch is byte-identical.
 */
export class GzipBody implements BatchBody<Buffer> {
  readonly #gzip: Gzip;
  readonly #output: Buffer[] = [];
  #error: Error | undefined;

  constructor(level: number) {
    this.#gzip = createGzip({ level });
    this.#gzip.on('data', (data: Buffer) => {
      this.#output.push(data);
    });
    this.#gzip.on('error', (error) => {
      this.#error = error;
    });
  }

  async append(lines: Buffer, release?: () => void): Promise<void> {
    // A write's callback runs once zlib has taken the chunk in (deflate copies its input into
    // its own window); after an error it may still be read, so it is not released then.
    this.#gzip.write(
      lines,
      release === undefined
        ? undefined
        : (error) => {
            if (error === undefined || error === null) {
              release();
            }
          },
    );
    // zlib compresses on a pool thread: the run goes on encoding while it does, and waits only
    // once this much is queued, which bounds the memory of a fast producer.
    if (this.#gzip.writableLength > MAX_QUEUED_BYTES) {
      await once(this.#gzip, 'drain');
    }
  }

  async finish(): Promise<Buffer> {
    this.#gzip.end();
    await once(this.#gzip, 'end');
    if (this.#error !== undefined) {
      throw this.#error;
    }
    return Buffer.concat(this.#output);
  }

  discard(): void {
    this.#gzip.destroy();
  }
}
