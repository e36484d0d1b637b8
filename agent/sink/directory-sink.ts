import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError, coerceError } from '../plugin-api/index.ts';
import type { Logger } from '../plugin-api/index.ts';
import { createSinkRegistry } from './registry.ts';
import { BatchingSettingsSchema } from './settings.ts';
import type { BatchingSettings } from './settings.ts';
import type {
  BatchBody,
  BatchOutcome,
  BatchTransport,
  RunCounts,
  SealedBatch,
  Sink,
  SinkSummary,
} from './types.ts';

/** Run ids that are safe as a directory name (no `..`, no separators). */
export const SAFE_RUN_ID = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

/** What the directory sink needs. */
export interface DirectorySinkOptions {
  /** The `--output` directory; each run writes into `<directory>/<runId>/`. */
  readonly directory: string;
  /** Batching settings (the catalog section's when configured, so files match what a push sends). */
  readonly batching?: Partial<BatchingSettings>;
  readonly logger: Logger;
  readonly metrics?: Metrics;
}

/** One file of the manifest. */
export interface ManifestFile {
  readonly seq: number;
  readonly file: string;
  readonly assets: number;
  readonly bytes: number;
  readonly sha256: string;
}

/** `manifest.json`, written by `complete()` only. */
export interface Manifest {
  readonly runId: string;
  readonly connector: string;
  readonly complete: true;
  readonly assets: number;
  readonly batches: number;
  readonly bytes: number;
  readonly files: readonly ManifestFile[];
}

/** `manifest.json` of an extract: with the run's counts (per kind, partial, skipped, reconciled). */
export type ExtractManifest = Manifest & Partial<RunCounts>;

interface FilePayload {
  readonly data: Buffer;
  readonly sha256: string;
}

/** File name of batch `seq`, e.g. `batch-000042.ndjson`. */
export function batchFileName(seq: number): string {
  return `batch-${String(seq).padStart(6, '0')}.ndjson`;
}

/**
 * The sink of `perimeter run --output DIR`: the batches a push would send, as plain NDJSON files
 * an operator can read before anything leaves, plus a manifest once the run completes. Files are
 * written under a temporary name and renamed, so a file that exists is whole.
 */
export function createDirectorySink(options: DirectorySinkOptions): Sink {
  const batching = BatchingSettingsSchema.parse(options.batching ?? {});
  return createSinkRegistry({
    batching,
    logger: options.logger.child({ component: 'sink' }),
    metrics: options.metrics,
    abortWaitMs: 10_000,
    transportFor: ({ runId, connector }) =>
      new DirectoryTransport(options.directory, runId, connector),
    closeTransport: () => Promise.resolve(),
  });
}

class DirectoryTransport implements BatchTransport<FilePayload> {
  readonly #runId: string;
  readonly #connector: string;
  readonly #dir: string;
  readonly #files = new Map<number, ManifestFile>();
  #created: Promise<void> | undefined;

  constructor(directory: string, runId: string, connector: string) {
    if (!SAFE_RUN_ID.test(runId)) {
      throw new PerimeterError(
        'OUTPUT_FAILED',
        'The run id cannot be used as a directory name under --output',
        {
          context: { runId },
        },
      );
    }
    this.#runId = runId;
    this.#connector = connector;
    this.#dir = join(directory, runId);
  }

  createBody(): BatchBody<FilePayload> {
    return new FileBody();
  }

  async send(batch: SealedBatch<FilePayload>): Promise<BatchOutcome> {
    const file = batchFileName(batch.seq);
    await this.#ensureDir();
    await this.#writeWhole(file, batch.payload.data);
    this.#files.set(batch.seq, {
      seq: batch.seq,
      file,
      assets: batch.assets,
      bytes: batch.bytes,
      sha256: batch.payload.sha256,
    });
    return 'written';
  }

  async complete(summary: SinkSummary, _signal?: AbortSignal, counts?: RunCounts): Promise<void> {
    await this.#ensureDir();
    const files: ManifestFile[] = [];
    for (let seq = 0; seq < summary.batches; seq += 1) {
      files.push(this.#files.get(seq) ?? (await this.#describeEarlierFile(seq)));
    }
    const manifest: ExtractManifest = {
      runId: this.#runId,
      connector: this.#connector,
      complete: true,
      ...summary,
      files,
      ...counts,
    };
    await this.#writeWhole('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  }

  #ensureDir(): Promise<void> {
    this.#created ??= mkdir(this.#dir, { recursive: true }).then(
      () => undefined,
      (error: unknown) => {
        throw this.#failure('create the run directory', this.#dir, error);
      },
    );
    return this.#created;
  }

  async #writeWhole(file: string, data: Buffer): Promise<void> {
    const path = join(this.#dir, file);
    const temp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(temp, data, { flag: 'wx' });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.#failure('write', path, error);
    }
  }

  /** A batch written by an earlier attempt of a resumed run: read back for the manifest. */
  async #describeEarlierFile(seq: number): Promise<ManifestFile> {
    const file = batchFileName(seq);
    const path = join(this.#dir, file);
    const hash = createHash('sha256');
    let bytes = 0;
    let assets = 0;
    try {
      for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
        assets += countNewlines(chunk);
      }
    } catch (error) {
      throw this.#failure('read back the earlier batch file', path, error);
    }
    return { seq, file, assets, bytes, sha256: hash.digest('hex') };
  }

  #failure(action: string, path: string, error: unknown): PerimeterError {
    const code = (coerceError(error) as NodeJS.ErrnoException).code ?? 'unknown';
    return new PerimeterError('OUTPUT_FAILED', `Could not ${action} ${path} (${code})`, {
      cause: error,
      context: { runId: this.#runId, path, code },
    });
  }
}

/** Plain NDJSON in memory (at most batchMaxBytes), hashed as it fills. */
class FileBody implements BatchBody<FilePayload> {
  readonly #lines: Buffer[] = [];
  readonly #releases: (() => void)[] = [];
  readonly #hash = createHash('sha256');

  append(lines: Buffer, release?: () => void): Promise<void> {
    this.#lines.push(lines);
    this.#hash.update(lines);
    if (release !== undefined) {
      this.#releases.push(release);
    }
    return Promise.resolve();
  }

  finish(): Promise<FilePayload> {
    const data = Buffer.concat(this.#lines);
    // The file's data is a copy: the lines appended may be reused now.
    this.#releases.splice(0).forEach((release) => {
      release();
    });
    return Promise.resolve({ data, sha256: this.#hash.digest('hex') });
  }

  discard(): void {
    this.#lines.length = 0;
    this.#releases.length = 0;
  }
}

function countNewlines(chunk: Buffer): number {
  let count = 0;
  for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) {
    count += 1;
  }
  return count;
}
