import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ManualTransport } from '../../test/fakes/catalog/manual-transport.ts';
import { encodedAssets, syntheticAsset } from '../../test/fakes/catalog/assets.ts';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { Asset } from '../plugin-api/index.ts';
import type { RunCheckpoint } from './types.ts';
import { BatchingSettingsSchema } from './settings.ts';
import type { BatchingSettings } from './settings.ts';
import { BatchingSinkRun } from './sink-run.ts';

interface Harness {
  readonly run: BatchingSinkRun<readonly string[]>;
  readonly transport: ManualTransport;
  readonly commits: RunCheckpoint[];
  readonly controller: AbortController;
}

function openRun(
  options: {
    batching?: Partial<BatchingSettings>;
    resume?: RunCheckpoint;
    autoAck?: boolean;
    onCommit?: (checkpoint: RunCheckpoint) => Promise<void>;
    abortWaitMs?: number;
  } = {},
): Harness {
  const transport = new ManualTransport({ autoAck: options.autoAck ?? false });
  const commits: RunCheckpoint[] = [];
  const controller = new AbortController();
  const run = new BatchingSinkRun(
    {
      runId: 'run-1',
      connector: 'cyera',
      signal: controller.signal,
      ...(options.resume === undefined ? {} : { resume: options.resume }),
      onCommit: async (checkpoint) => {
        await options.onCommit?.(checkpoint);
        commits.push(checkpoint);
      },
    },
    {
      transport,
      batching: BatchingSettingsSchema.parse({
        batchMaxAssets: 10,
        checkpointMinAssets: 3,
        ...options.batching,
      }),
      logger: captureLogs().logger,
      metrics: undefined,
      abortWaitMs: options.abortWaitMs ?? 2000,
    },
  );
  return { run, transport, commits, controller };
}

async function writeAll(
  run: BatchingSinkRun<readonly string[]>,
  from: number,
  count: number,
): Promise<void> {
  for (let index = from; index < from + count; index += 1) {
    await run.write(syntheticAsset(index));
  }
}

/** True when the promise is still pending after the event loop had a few turns. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let turn = 0; turn < 5; turn += 1) {
    await tick();
  }
  return !settled;
}

describe('BatchingSinkRun batching', () => {
  it('cuts batches at batchMaxAssets and numbers them from 0', async () => {
    const { run, transport } = openRun({ autoAck: true });
    await writeAll(run, 0, 25);
    const summary = await run.complete();
    expect(transport.sent.map((batch) => [batch.seq, batch.assets])).toEqual([
      [0, 10],
      [1, 10],
      [2, 5],
    ]);
    expect(summary).toEqual({
      assets: 25,
      batches: 3,
      bytes: transport.sent.reduce((sum, b) => sum + b.bytes, 0),
    });
    expect(transport.completes).toEqual([summary]);
  });

  it('cuts a batch before the line that would exceed batchMaxBytes', async () => {
    const { run, transport } = openRun({
      autoAck: true,
      batching: { batchMaxAssets: 1000, batchMaxBytes: 2048 },
    });
    await writeAll(run, 0, 40);
    await run.complete();
    expect(transport.sent.length).toBeGreaterThan(1);
    for (const batch of transport.sent) {
      expect(batch.bytes).toBeLessThanOrEqual(2048);
      expect(batch.bytes).toBe(
        batch.lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0),
      );
    }
    expect(transport.sent.flatMap((batch) => batch.lines)).toHaveLength(40);
  });

  it('serialises each asset as one NDJSON line equal to its JSON', async () => {
    const { run, transport } = openRun({ autoAck: true });
    await writeAll(run, 0, 3);
    await run.complete();
    expect(transport.sent[0]?.lines.map((line) => JSON.parse(line) as Asset)).toEqual([
      syntheticAsset(0),
      syntheticAsset(1),
      syntheticAsset(2),
    ]);
  });

  it('refuses an invalid asset with ASSET_INVALID naming its type and paths, never its values', async () => {
    const { run } = openRun();
    const bad = {
      ...syntheticAsset(1),
      qualifiedName: '',
      attributes: { secretish: 'hunter2-value' },
      extra: 'zzz-extra',
    };
    const error = await run.write(bad as Asset).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PerimeterError);
    expect((error as PerimeterError).code).toBe('ASSET_INVALID');
    expect((error as PerimeterError).message).toContain('CyeraTable');
    expect((error as PerimeterError).context['paths']).toEqual(['qualifiedName', '(root)']);
    expect(JSON.stringify((error as PerimeterError).toSummary())).not.toMatch(/hunter2|zzz-extra/);
  });

  it('refuses an asset larger than batchMaxBytes with ASSET_TOO_LARGE', async () => {
    const { run } = openRun({ batching: { batchMaxBytes: 1024 } });
    const big = { ...syntheticAsset(1), attributes: { note: 'y'.repeat(2000) } };
    await expect(run.write(big)).rejects.toMatchObject({ code: 'ASSET_TOO_LARGE' });
  });
});

describe('BatchingSinkRun with assets a run thread encoded', () => {
  const assets = Array.from({ length: 40 }, (_, index) => syntheticAsset(index));
  const batching = { batchMaxAssets: 7, batchMaxBytes: 2048 };

  it('cuts the very batches, under the same seq numbers, that writing each asset cuts', async () => {
    const one = openRun({ autoAck: true, batching });
    for (const asset of assets) {
      await one.run.write(asset);
    }
    await one.run.checkpoint('after-40');
    const byAsset = await one.run.complete();
    const blocks = openRun({ autoAck: true, batching });
    for (let from = 0; from < assets.length; from += 9) {
      await blocks.run.writeEncoded(encodedAssets(assets.slice(from, from + 9)));
    }
    await blocks.run.checkpoint('after-40');
    expect(await blocks.run.complete()).toEqual(byAsset);
    const batches = (
      sent: readonly { seq: number; assets: number; bytes: number; lines: readonly string[] }[],
    ) => sent.map(({ seq, assets: count, bytes, lines }) => ({ seq, count, bytes, lines }));
    expect(batches(blocks.transport.sent)).toEqual(batches(one.transport.sent));
    expect(one.transport.sent.length).toBeGreaterThan(assets.length / 7);
    expect(blocks.commits).toEqual(one.commits);
  });

  it('lets every body it handed lines to release them, and takes no hold once done', async () => {
    const { run, transport } = openRun({ autoAck: true, batching });
    const holds = { taken: 0, open: 0 };
    await run.writeEncoded(encodedAssets(assets.slice(0, 20), holds));
    await run.complete();
    expect(transport.sent.length).toBeGreaterThan(2);
    expect(holds).toEqual({ taken: transport.sent.length, open: 0 });
  });

  it('refuses an encoded asset larger than batchMaxBytes with ASSET_TOO_LARGE, naming its type', async () => {
    const { run } = openRun({ batching: { batchMaxBytes: 1024 } });
    const big = { ...syntheticAsset(1), attributes: { note: 'y'.repeat(2000) } };
    await expect(run.writeEncoded(encodedAssets([syntheticAsset(0), big]))).rejects.toMatchObject({
      code: 'ASSET_TOO_LARGE',
      context: { typeName: 'CyeraTable' },
    });
  });
});

describe('BatchingSinkRun checkpoints', () => {
  it('cuts at a checkpoint only when checkpointMinAssets are pending, and commits it once acked', async () => {
    const { run, transport, commits } = openRun({ autoAck: true });
    await writeAll(run, 0, 2);
    await run.checkpoint('after-2');
    expect(transport.sent).toHaveLength(0);
    await writeAll(run, 2, 1);
    await run.checkpoint('after-3');
    expect(transport.sent.map((batch) => batch.assets)).toEqual([3]);
    await run.checkpoint('after-3-again');
    await run.complete();
    expect(commits).toEqual([
      { cursor: 'after-3', nextSeq: 1, assets: 3, bytes: transport.sent[0]?.bytes },
      { cursor: 'after-3-again', nextSeq: 1, assets: 3, bytes: transport.sent[0]?.bytes },
    ]);
  });

  it('commits in order, one at a time, whatever order the acks arrive in', async () => {
    let release: (() => void) | undefined;
    let active = 0;
    let maxActive = 0;
    const { run, transport, commits } = openRun({
      batching: { batchMaxAssets: 2, checkpointMinAssets: 2 },
      onCommit: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((resolve) => (release = resolve));
        active -= 1;
      },
    });
    for (let page = 0; page < 3; page += 1) {
      await writeAll(run, page * 2, 2);
      await run.checkpoint(`page-${page}`);
    }
    transport.batch(2).ack();
    transport.batch(1).ack('duplicate');
    await tick();
    expect(release).toBeUndefined();
    transport.batch(0).ack();
    await waitUntil(() => release !== undefined);
    release?.();
    await run.complete();
    expect(commits.map((commit) => [commit.cursor, commit.nextSeq, commit.assets])).toEqual([
      ['page-2', 3, 6],
    ]);
    expect(maxActive).toBe(1);
  });

  it('delivers a newer commit only after the one in progress, skipping those it supersedes', async () => {
    const releases: (() => void)[] = [];
    const { run, transport, commits } = openRun({
      batching: { batchMaxAssets: 1, checkpointMinAssets: 1 },
      onCommit: () => new Promise<void>((resolve) => releases.push(resolve)),
    });
    for (let index = 0; index < 4; index += 1) {
      await writeAll(run, index, 1);
      await run.checkpoint(index);
    }
    transport.batch(0).ack();
    await waitUntil(() => releases.length === 1);
    transport.batch(1).ack();
    transport.batch(2).ack();
    transport.batch(3).ack();
    await tick();
    expect(releases).toHaveLength(1);
    releases[0]?.();
    await waitUntil(() => releases.length === 2);
    releases[1]?.();
    await run.complete();
    expect(commits.map((commit) => commit.nextSeq)).toEqual([1, 4]);
  });

  it('makes resumed attempts produce the same batches under the same seq numbers', async () => {
    const events = scriptedStream(400, 7);
    const first = await drive(events, 0);
    const middle = first.commits[Math.floor(first.commits.length / 2)];
    expect(middle).toBeDefined();
    const resumed = await drive(events, Number(middle?.cursor), middle);
    expect(resumed.summary).toEqual(first.summary);
    expect(resumed.batches.size).toBeGreaterThan(0);
    for (const [seq, lines] of resumed.batches) {
      expect(lines).toEqual(first.batches.get(seq));
    }
    expect(Math.min(...resumed.batches.keys())).toBe(middle?.nextSeq);
  });

  it('cuts the same batches however slowly the catalog acknowledges them', async () => {
    const events = scriptedStream(300, 11);
    const fast = await drive(events, 0);
    const slow = await drive(events, 0, undefined, 3);
    expect([...slow.batches]).toEqual([...fast.batches]);
    expect(slow.summary).toEqual(fast.summary);
    const slowSeqs = slow.commits.map((commit) => commit.nextSeq);
    expect(slowSeqs).toEqual([...slowSeqs].sort((a, b) => a - b));
  });
});

describe('BatchingSinkRun backpressure, failure and abort', () => {
  it('keeps write() pending while maxInFlightBatches batches are unacknowledged', async () => {
    const { run, transport } = openRun({
      batching: { batchMaxAssets: 1, checkpointMinAssets: 1, maxInFlightBatches: 2 },
    });
    await writeAll(run, 0, 3);
    expect(transport.sent.map((batch) => batch.seq)).toEqual([0, 1]);
    const blocked = run.write(syntheticAsset(3));
    expect(await isPending(blocked)).toBe(true);
    transport.batch(1).ack();
    await blocked;
    expect(transport.sent.map((batch) => batch.seq)).toEqual([0, 1, 2]);
  });

  it('rejects a write waiting for room with the reason of the run signal', async () => {
    const { run, controller } = openRun({
      batching: { batchMaxAssets: 1, checkpointMinAssets: 1, maxInFlightBatches: 1 },
    });
    await writeAll(run, 0, 2);
    const blocked = run.write(syntheticAsset(2));
    controller.abort(new PerimeterError('RUN_CANCELLED', 'cancelled'));
    await expect(blocked).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
  });

  it('throws the error of a batch that failed for good on the next call', async () => {
    const { run, transport } = openRun({ batching: { batchMaxAssets: 1, checkpointMinAssets: 1 } });
    await writeAll(run, 0, 2);
    transport
      .batch(0)
      .fail(new PerimeterError('SINK_REJECTED', 'rejected', { context: { seq: 0 } }));
    await tick();
    await expect(run.write(syntheticAsset(2))).rejects.toMatchObject({ code: 'SINK_REJECTED' });
    await expect(run.complete()).rejects.toMatchObject({ code: 'SINK_REJECTED' });
    expect(transport.completes).toHaveLength(0);
  });

  it('never completes on abort, sends nothing new, and commits what is acked while it waits', async () => {
    const { run, transport, commits } = openRun({
      batching: { batchMaxAssets: 2, checkpointMinAssets: 2 },
    });
    await writeAll(run, 0, 2);
    await run.checkpoint('c1');
    await writeAll(run, 2, 1);
    const aborting = run.abort();
    expect(await isPending(aborting)).toBe(true);
    transport.batch(0).ack();
    await aborting;
    expect(commits.map((commit) => commit.cursor)).toEqual(['c1']);
    expect(transport.sent).toHaveLength(1);
    expect(transport.completes).toHaveLength(0);
    expect(run.abort()).toBe(aborting);
    await expect(run.write(syntheticAsset(9))).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('bounds the wait of abort() and cancels the batches still in flight', async () => {
    const { run, transport } = openRun({
      batching: { batchMaxAssets: 1, checkpointMinAssets: 1 },
      abortWaitMs: 50,
    });
    await writeAll(run, 0, 2);
    const started = Date.now();
    await run.abort();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(transport.batch(0).signal.aborted).toBe(true);
  });

  it('counts acknowledged batches, bytes and assets in the metrics', async () => {
    const metrics = createMetrics();
    const transport = new ManualTransport({ autoAck: true });
    const run = new BatchingSinkRun(
      {
        runId: 'run-m',
        connector: 'cyera',
        signal: new AbortController().signal,
        onCommit: () => Promise.resolve(),
      },
      {
        transport,
        batching: BatchingSettingsSchema.parse({ batchMaxAssets: 4, checkpointMinAssets: 1 }),
        logger: captureLogs().logger,
        metrics,
        abortWaitMs: 100,
      },
    );
    await writeAll(run, 0, 10);
    const summary = await run.complete();
    expect((await metrics.assetsTotal.get()).values).toEqual([
      { labels: { connector: 'cyera' }, value: 10 },
    ]);
    expect((await metrics.batchesTotal.get()).values).toEqual([
      { labels: { outcome: 'stored' }, value: 3 },
    ]);
    expect((await metrics.batchBytesTotal.get()).values[0]?.value).toBe(summary.bytes);
    expect(run.progress).toEqual(summary);
  });
});

type StreamEvent =
  | { readonly type: 'asset'; readonly index: number }
  | { readonly type: 'checkpoint'; readonly cursor: number };

/** Assets in pages of varying size, each page followed by a checkpoint whose cursor is the next event's position. */
function scriptedStream(assets: number, seed: number): StreamEvent[] {
  const events: StreamEvent[] = [];
  let state = seed;
  for (let index = 0; index < assets; index += 1) {
    events.push({ type: 'asset', index });
    state = (state * 1103515245 + 12345) % 2147483648;
    if (state % 9 === 0) {
      events.push({ type: 'checkpoint', cursor: events.length + 1 });
    }
  }
  return events;
}

async function drive(
  events: readonly StreamEvent[],
  from: number,
  resume?: RunCheckpoint,
  maxAckDelayMs?: number,
): Promise<{
  batches: Map<number, readonly string[]>;
  commits: RunCheckpoint[];
  summary: unknown;
}> {
  const { run, transport, commits } = openRun({
    autoAck: maxAckDelayMs === undefined,
    ...(resume === undefined ? {} : { resume }),
    batching: {
      batchMaxAssets: 13,
      batchMaxBytes: 4096,
      checkpointMinAssets: 5,
      maxInFlightBatches: 3,
    },
  });
  const acker =
    maxAckDelayMs === undefined
      ? undefined
      : setInterval(() => {
          for (const batch of transport.sent.filter((sent) => sent.seq % 2 === Date.now() % 2)) {
            batch.ack();
          }
        }, maxAckDelayMs);
  try {
    for (const event of events.slice(from)) {
      if (event.type === 'asset') {
        await run.write(syntheticAsset(event.index));
      } else {
        await run.checkpoint(event.cursor);
      }
    }
    for (const batch of transport.sent) {
      batch.ack();
    }
    const summary = await run.complete();
    return {
      batches: new Map(transport.sent.map((batch) => [batch.seq, batch.lines])),
      commits,
      summary,
    };
  } finally {
    clearInterval(acker);
  }
}

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !condition(); turn += 1) {
    await tick();
  }
  expect(condition()).toBe(true);
}
