import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Gzip } from 'node:zlib';
import type { BatchBody } from './types.ts';

/** Lines are handed to zlib in chunks of about this size: one zlib call per line is slow. */
const CHUNK_BYTES = 64 * 1024;

/**
 * A batch body compressed as it fills: only the gzip output is kept, so a batch in memory costs
 * its compressed size plus one chunk, not its NDJSON size. The finished Buffer is sent as is on
 * every retry, so a retried batch is byte-identical.
 */
export class GzipBody implements BatchBody<Buffer> {
  readonly #gzip: Gzip;
  readonly #output: Buffer[] = [];
  #chunk: Buffer[] = [];
  #chunkBytes = 0;
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

  async append(line: Buffer): Promise<void> {
    this.#chunk.push(line);
    this.#chunkBytes += line.length;
    if (this.#chunkBytes >= CHUNK_BYTES) {
      await this.#flushChunk();
    }
  }

  async finish(): Promise<Buffer> {
    this.#gzip.end(this.#takeChunk());
    await once(this.#gzip, 'end');
    if (this.#error !== undefined) {
      throw this.#error;
    }
    return Buffer.concat(this.#output);
  }

  discard(): void {
    this.#chunk = [];
    this.#gzip.destroy();
  }

  async #flushChunk(): Promise<void> {
    if (!this.#gzip.write(this.#takeChunk())) {
      await once(this.#gzip, 'drain');
    }
  }

  #takeChunk(): Buffer {
    const chunk = Buffer.concat(this.#chunk, this.#chunkBytes);
    this.#chunk = [];
    this.#chunkBytes = 0;
    return chunk;
  }
}
