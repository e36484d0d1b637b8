import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { PerimeterError } from '../../agent/plugin-api/index.ts';

/**
 * How the file store reads a file. The store maps the errors it throws (Node errno errors:
 * ENOENT, EACCES, EIO...), so a test can put a fault-injecting reader over the real one.
 */
export interface SecretFileReader {
  /** Reads a regular file of at most `maxBytes`; throws SECRET_TOO_LARGE beyond that. */
  read(
    path: string,
    options: { readonly maxBytes: number; readonly signal: AbortSignal },
  ): Promise<Buffer>;
}

const CHUNK_BYTES = 64 * 1024;

/** Reads with Node's fs: bounded, abortable between chunks, regular files only. */
export const nodeFileReader: SecretFileReader = {
  async read(path, { maxBytes, signal }) {
    signal.throwIfAborted();
    // O_NONBLOCK: opening a FIFO must not park a libuv thread until some writer shows up.
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) {
        throw new PerimeterError(
          'SECRET_NOT_FOUND',
          'The path is not a regular file. Point the reference at the file holding the secret',
          { context: { ref: `file://${path}` } },
        );
      }
      return await readBounded(handle, path, maxBytes, signal);
    } finally {
      await handle.close();
    }
  },
};

async function readBounded(
  handle: Awaited<ReturnType<typeof open>>,
  path: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      signal.throwIfAborted();
      const chunk = Buffer.alloc(CHUNK_BYTES);
      chunks.push(chunk);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) {
        break;
      }
      total += bytesRead;
      chunks[chunks.length - 1] = chunk.subarray(0, bytesRead);
      if (total > maxBytes) {
        throw new PerimeterError(
          'SECRET_TOO_LARGE',
          `The file is larger than the ${maxBytes}-byte cap of the file store. Reference the file that holds only the secret`,
          { context: { ref: `file://${path}`, maxBytes } },
        );
      }
    }
    return Buffer.concat(chunks, total);
  } finally {
    // The chunks hold secret bytes; the result is a copy.
    for (const chunk of chunks) {
      chunk.fill(0);
    }
  }
}
