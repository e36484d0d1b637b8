import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodedAssets, syntheticAsset } from '../../test/fakes/catalog/assets.ts';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { batchFileName, createDirectorySink } from './directory-sink.ts';
import type { Manifest } from './directory-sink.ts';
import type { RunCheckpoint, SinkOpenOptions } from './types.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

const batching = { batchMaxAssets: 4, checkpointMinAssets: 2 };

function runOptions(
  overrides: Partial<SinkOpenOptions> = {},
): SinkOpenOptions & { commits: RunCheckpoint[] } {
  const commits: RunCheckpoint[] = [];
  return {
    runId: 'run-dir',
    connector: 'cyera',
    signal: new AbortController().signal,
    onCommit: (checkpoint) => {
      commits.push(checkpoint);
      return Promise.resolve();
    },
    commits,
    ...overrides,
  };
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'run-dir', 'manifest.json'), 'utf8')) as Manifest;
}

describe('createDirectorySink', () => {
  it('writes assets a run thread encoded into the same files, and lets their lines go once written', async () => {
    const assets = Array.from({ length: 10 }, (_, index) => syntheticAsset(index));
    const byAsset = tempDir('out');
    const sink = createDirectorySink({
      directory: byAsset,
      batching,
      logger: captureLogs().logger,
    });
    const run = sink.open(runOptions());
    for (const asset of assets) {
      await run.write(asset);
    }
    await run.complete();
    const encoded = tempDir('out');
    const holds = { taken: 0, open: 0 };
    const other = createDirectorySink({
      directory: encoded,
      batching,
      logger: captureLogs().logger,
    });
    const blocks = other.open(runOptions());
    await blocks.writeEncoded(encodedAssets(assets.slice(0, 6), holds));
    await blocks.writeEncoded(encodedAssets(assets.slice(6), holds));
    await blocks.complete();
    await Promise.all([sink.close(), other.close()]);
    for (let seq = 0; seq < 3; seq += 1) {
      const file = (dir: string): string =>
        readFileSync(join(dir, 'run-dir', batchFileName(seq)), 'utf8');
      expect(file(encoded)).toBe(file(byAsset));
    }
    expect(holds).toEqual({ taken: 4, open: 0 });
  });

  it('writes each batch as plain NDJSON and a manifest with counts and hashes on complete', async () => {
    const dir = tempDir('out');
    const sink = createDirectorySink({ directory: dir, batching, logger: captureLogs().logger });
    const run = sink.open(runOptions());
    for (let index = 0; index < 10; index += 1) {
      await run.write(syntheticAsset(index));
    }
    const summary = await run.complete();
    await sink.close();

    const runDir = join(dir, 'run-dir');
    expect(readdirSync(runDir).sort()).toEqual([
      'batch-000000.ndjson',
      'batch-000001.ndjson',
      'batch-000002.ndjson',
      'manifest.json',
    ]);
    const manifest = readManifest(dir);
    expect(manifest).toMatchObject({
      runId: 'run-dir',
      connector: 'cyera',
      complete: true,
      assets: 10,
      batches: 3,
    });
    expect(manifest.bytes).toBe(summary.bytes);
    for (const file of manifest.files) {
      const data = readFileSync(join(runDir, file.file));
      expect(file.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      expect(file.bytes).toBe(data.length);
      expect(data.toString('utf8').trimEnd().split('\n')).toHaveLength(file.assets);
    }
    const firstLine =
      readFileSync(join(runDir, 'batch-000000.ndjson'), 'utf8').split('\n')[0] ?? '';
    expect(JSON.parse(firstLine)).toEqual(syntheticAsset(0));
  });

  it('writes no manifest and leaves no temporary file when the run is aborted', async () => {
    const dir = tempDir('out');
    const sink = createDirectorySink({ directory: dir, batching, logger: captureLogs().logger });
    const options = runOptions();
    const run = sink.open(options);
    for (let index = 0; index < 6; index += 1) {
      await run.write(syntheticAsset(index));
    }
    await run.checkpoint('after-6');
    await run.write(syntheticAsset(6));
    await run.abort();
    await sink.close();
    expect(readdirSync(join(dir, 'run-dir')).sort()).toEqual([
      'batch-000000.ndjson',
      'batch-000001.ndjson',
    ]);
    expect(options.commits.map((commit) => [commit.cursor, commit.nextSeq, commit.assets])).toEqual(
      [['after-6', 2, 6]],
    );
  });

  it('lists the files of earlier attempts in the manifest of a resumed run', async () => {
    const dir = tempDir('out');
    const first = createDirectorySink({ directory: dir, batching, logger: captureLogs().logger });
    const options = runOptions();
    const run = first.open(options);
    for (let index = 0; index < 8; index += 1) {
      await run.write(syntheticAsset(index));
    }
    await run.checkpoint(8);
    await run.abort();
    const resume = options.commits.at(-1);
    expect(resume?.nextSeq).toBe(2);

    const second = createDirectorySink({ directory: dir, batching, logger: captureLogs().logger });
    const resumed = second.open(runOptions({ ...(resume === undefined ? {} : { resume }) }));
    for (let index = 8; index < 11; index += 1) {
      await resumed.write(syntheticAsset(index));
    }
    await resumed.complete();
    const manifest = readManifest(dir);
    expect(manifest).toMatchObject({ assets: 11, batches: 3 });
    expect(manifest.files.map((file) => [file.file, file.assets])).toEqual([
      [batchFileName(0), 4],
      [batchFileName(1), 4],
      [batchFileName(2), 3],
    ]);
  });

  it('refuses a run id that is not a safe directory name with OUTPUT_FAILED', () => {
    const sink = createDirectorySink({ directory: tmpdir(), logger: captureLogs().logger });
    expect(() => sink.open(runOptions({ runId: '..' }))).toThrow(
      expect.objectContaining({ code: 'OUTPUT_FAILED' }),
    );
  });

  it('fails with OUTPUT_FAILED naming the path when the run directory cannot be created', async () => {
    const dir = tempDir('out');
    writeFileSync(join(dir, 'run-dir'), 'a file where the run directory should be');
    const sink = createDirectorySink({ directory: dir, batching, logger: captureLogs().logger });
    const run = sink.open(runOptions());
    await run.write(syntheticAsset(0));
    const error = await run.complete().catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'OUTPUT_FAILED',
      context: { runId: 'run-dir', path: join(dir, 'run-dir') },
    });
  });
});
