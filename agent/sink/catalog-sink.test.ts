import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticAsset } from '../../test/fakes/catalog/assets.ts';
import { catalogSinkHarness, pagedStream, pushRun } from '../../test/fakes/catalog/sink-harness.ts';
import type { SinkHarness, SinkHarnessOptions } from '../../test/fakes/catalog/sink-harness.ts';
import { startCatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import type { CatalogReceiver, CatalogReceiverOptions } from '../../test/fakes/catalog-receiver.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { catalogDestinationPolicy } from './catalog-sink.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function setup(
  receiverOptions: CatalogReceiverOptions = {},
  harness: Partial<SinkHarnessOptions> & { catalog?: Record<string, unknown> } = {},
): Promise<{ receiver: CatalogReceiver } & SinkHarness> {
  const receiver = await startCatalogReceiver(receiverOptions);
  const built = catalogSinkHarness({
    ...harness,
    catalog: { url: receiver.url, batchMaxAssets: 10, checkpointMinAssets: 10, ...harness.catalog },
  });
  cleanups.push(
    () => built.sink.close(),
    () => receiver.close(),
  );
  return { receiver, ...built };
}

const stream = (count: number, every = 5): ReturnType<typeof pagedStream> =>
  pagedStream(0, count, every, (index) => syntheticAsset(index));

describe('createCatalogSink', () => {
  it('posts gzip NDJSON batches with the protocol headers and the bearer token, then completes', async () => {
    const token = makeCanary('catalog-token');
    const { receiver, sink, logs } = await setup({ token }, { tokens: [token] });
    const result = await pushRun(sink, { runId: 'run-a', events: stream(25) });
    expect(result.error).toBeUndefined();
    expect(result.summary).toMatchObject({ assets: 25, batches: 3 });

    const batchCalls = receiver.requests.filter((request) => request.path.endsWith('/batches'));
    expect(batchCalls.map((request) => request.headers['idempotency-key'])).toEqual([
      'run-a:0',
      'run-a:1',
      'run-a:2',
    ]);
    for (const request of batchCalls) {
      expect(request.method).toBe('POST');
      expect(request.headers).toMatchObject({
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
        authorization: `Bearer ${token}`,
      });
      expect(request.outcome).toBe(202);
    }
    const firstLines = gunzipSync(batchCalls[0]!.body).toString('utf8').trimEnd().split('\n');
    expect(firstLines.map((line) => JSON.parse(line) as unknown)).toEqual(
      Array.from({ length: 10 }, (_, index) => syntheticAsset(index)),
    );
    expect(receiver.completes).toEqual([{ runId: 'run-a', assets: 25, batches: 3 }]);
    expect(findCanary(token, { logs: logs.text() })).toEqual([]);
  });

  it('sends no Authorization header when no token is configured', async () => {
    const { receiver, sink } = await setup();
    await pushRun(sink, { runId: 'run-b', events: stream(3) });
    expect(receiver.requests).toHaveLength(2);
    expect(
      receiver.requests.every((request) => request.headers['authorization'] === undefined),
    ).toBe(true);
  });

  it('fetches the token for every batch so a rotated token is used from the next batch on', async () => {
    const { receiver, sink, tokenFetches } = await setup(
      {},
      { tokens: ['token-one-aaaa', 'token-two-bbbb'] },
    );
    await pushRun(sink, { runId: 'run-c', events: stream(20) });
    expect(receiver.requests.map((request) => request.headers['authorization'])).toEqual([
      'Bearer token-one-aaaa',
      'Bearer token-two-bbbb',
      'Bearer token-two-bbbb',
    ]);
    expect(tokenFetches()).toBe(3);
  });

  it('retries 429, 503, 408 and dropped connections with the same key and stores each asset once', async () => {
    const { receiver, sink, metrics } = await setup({}, { catalog: { maxInFlightBatches: 1 } });
    receiver.script(
      { kind: 'status', status: 429, retryAfterSeconds: 0 },
      { kind: 'status', status: 503 },
      { kind: 'drop', when: 'after-store' },
      { kind: 'status', status: 408 },
      { kind: 'drop', when: 'before-store' },
    );
    const result = await pushRun(sink, { runId: 'run-d', events: stream(30) });
    expect(result.error).toBeUndefined();
    expect([...receiver.assetCounts().values()].every((count) => count === 1)).toBe(true);
    expect(receiver.assetCounts().size).toBe(30);
    expect(receiver.duplicates).toBe(1);
    expect(receiver.conflicts).toEqual([]);
    const keys = receiver.requests
      .filter((r) => r.path.endsWith('/batches'))
      .map((r) => r.headers['idempotency-key']);
    expect(keys.slice(0, 6)).toEqual([
      'run-d:0',
      'run-d:0',
      'run-d:0',
      'run-d:0',
      'run-d:0',
      'run-d:0',
    ]);
    const outcomes = (await metrics.batchesTotal.get()).values.map((value) => [
      value.labels.outcome,
      value.value,
    ]);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        ['duplicate', 1],
        ['stored', 2],
      ]),
    );
    const retries = (await metrics.retriesTotal.get()).values.filter(
      (value) => value.labels.component === 'sink',
    );
    expect(retries.reduce((sum, value) => sum + value.value, 0)).toBe(5);
  });

  it('waits at least the Retry-After the catalog asks for', async () => {
    const { receiver, sink } = await setup();
    receiver.script({ kind: 'status', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await pushRun(sink, { runId: 'run-e', events: stream(3) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(receiver.completes).toHaveLength(1);
  });

  it('fails the run with SINK_REJECTED on a 400 and never calls complete', async () => {
    const { receiver, sink, metrics } = await setup();
    receiver.script({ kind: 'status', status: 400 });
    const result = await pushRun(sink, { runId: 'run-f', events: stream(12) });
    expect(result.error).toMatchObject({
      code: 'SINK_REJECTED',
      retryable: false,
      context: { runId: 'run-f', seq: 0, status: 400 },
    });
    expect(receiver.completes).toEqual([]);
    expect(receiver.requests.some((request) => request.path.endsWith('/complete'))).toBe(false);
    expect((await metrics.batchesTotal.get()).values).toContainEqual(
      expect.objectContaining({ labels: { outcome: 'rejected' }, value: 1 }),
    );
  });

  it('fails with SINK_REJECTED when the catalog refuses the token', async () => {
    const { sink } = await setup({ token: 'the-right-token' }, { tokens: ['a-wrong-token'] });
    const result = await pushRun(sink, { runId: 'run-g', events: stream(3) });
    expect(result.error).toMatchObject({ code: 'SINK_REJECTED', context: { status: 401 } });
  });

  it('gives up with a retryable SINK_UNAVAILABLE after retry.maxAttempts', async () => {
    const { receiver, sink } = await setup({}, { catalog: { retry: { maxAttempts: 3 } } });
    receiver.script(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
    const result = await pushRun(sink, { runId: 'run-h', events: stream(3) });
    expect(result.error).toMatchObject({
      code: 'SINK_UNAVAILABLE',
      retryable: true,
      context: { runId: 'run-h', seq: 0, attempts: 3 },
    });
    expect(receiver.requests).toHaveLength(3);
  });
});

describe('catalogDestinationPolicy', () => {
  it('allows only the catalog host and the two push calls under its base path', () => {
    expect(catalogDestinationPolicy({ url: 'https://catalog.example.com:8443/ingest' })).toEqual({
      allowedHosts: ['catalog.example.com:8443'],
      allowedCalls: [
        { method: 'POST', path: '/ingest/v1/runs/*/batches' },
        { method: 'POST', path: '/ingest/v1/runs/*/complete' },
      ],
    });
  });
});
