import { afterEach, describe, expect, it } from 'vitest';
import { syntheticAsset } from '../fakes/catalog/assets.ts';
import { catalogSinkHarness, pagedStream, pushRun } from '../fakes/catalog/sink-harness.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { createOpenApiChecker } from '../helpers/openapi.ts';
import { testPki } from '../helpers/tls.ts';

const checker = createOpenApiChecker(
  new URL('../../docs/protocol/catalog.openapi.yaml', import.meta.url),
);
const receivers: CatalogReceiver[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function tlsReceiver(token?: string): Promise<CatalogReceiver> {
  const pki = testPki();
  const receiver = await startCatalogReceiver({
    tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
    ...(token === undefined ? {} : { token }),
  });
  receivers.push(receiver);
  return receiver;
}

/** Problems of every request the receiver answered (dropped ones may be partial). */
function openApiProblems(receiver: CatalogReceiver): string[] {
  return receiver.requests
    .filter((request) => request.outcome !== 'dropped')
    .flatMap((request) =>
      checker.check(request).map((problem) => `${request.method} ${request.path}: ${problem}`),
    );
}

function expectEachAssetOnce(receiver: CatalogReceiver, prefix: string, count: number): void {
  const counts = receiver.assetCounts();
  const mine = [...counts].filter(([name]) => name.startsWith(prefix));
  expect(mine).toHaveLength(count);
  expect(mine.filter(([, times]) => times !== 1)).toEqual([]);
  expect(receiver.conflicts).toEqual([]);
}

const assetOf =
  (prefix: string) =>
  (index: number): ReturnType<typeof syntheticAsset> =>
    syntheticAsset(index, { prefix });

describe('catalog sink against the receiver over loopback TLS', () => {
  it('delivers 50,000 assets exactly once through 429s, 503s and dropped connections', async () => {
    const token = makeCanary('catalog-token');
    const receiver = await tlsReceiver(token);
    receiver.chaos({ seed: 20240611, rate429: 0.1, rate503: 0.1, retryAfterSeconds: 0 });
    receiver.script({ kind: 'drop', when: 'after-store' }, { kind: 'drop', when: 'before-store' });
    const { sink, logs, metrics } = catalogSinkHarness({
      catalog: {
        url: receiver.url,
        token: 'file:///var/run/catalog-token',
        retry: { maxAttempts: 12 },
      },
      tokens: [token],
      caPem: testPki().caPem,
    });
    closers.push(() => sink.close());
    const prefix = 'cyera/t-50k/ds';
    const result = await pushRun(sink, {
      runId: 'run-50k',
      events: pagedStream(0, 50_000, 100, assetOf(prefix)),
    });

    expect(result.error).toBeUndefined();
    expectEachAssetOnce(receiver, prefix, 50_000);
    expect(result.summary?.assets).toBe(50_000);
    expect(receiver.completes).toEqual([
      { runId: 'run-50k', assets: 50_000, batches: result.summary?.batches },
    ]);
    expect(receiver.injected.get('status429')).toBeGreaterThan(0);
    expect(receiver.injected.get('status503')).toBeGreaterThan(0);
    expect(receiver.injected.get('drop-after-store')).toBeGreaterThanOrEqual(1);
    expect(receiver.injected.get('drop-before-store')).toBeGreaterThanOrEqual(1);
    expect(receiver.duplicates).toBeGreaterThanOrEqual(1);
    expect(openApiProblems(receiver)).toEqual([]);
    expect(result.commits.at(-1)?.assets).toBeGreaterThan(40_000);
    expect((await metrics.assetsTotal.get()).values[0]?.value).toBe(50_000);
    const captured = Object.fromEntries(receiver.requests.map((r, i) => [`body${i}`, r.body]));
    expect(findCanary(token, { logs: logs.text(), ...captured })).toEqual([]);
  });

  it('re-sends with the same keys after a resume and the catalog still holds each asset once', async () => {
    const receiver = await tlsReceiver();
    const { sink } = catalogSinkHarness({
      catalog: {
        url: receiver.url,
        batchMaxAssets: 200,
        checkpointMinAssets: 100,
        retry: { maxAttempts: 2 },
      },
      caPem: testPki().caPem,
    });
    closers.push(() => sink.close());
    const prefix = 'cyera/t-resume/ds';
    const total = 6_000;
    // 20 batches go through; then the catalog stores batches but every answer is lost, so the
    // attempt fails with batches stored beyond its last committed checkpoint.
    receiver.script(
      ...Array.from({ length: 20 }, () => ({ kind: 'slow' as const, delayMs: 0 })),
      ...Array.from({ length: 16 }, () => ({
        kind: 'drop' as const,
        when: 'after-store' as const,
      })),
    );
    const first = await pushRun(sink, {
      runId: 'run-resume',
      events: pagedStream(0, total, 50, assetOf(prefix)),
    });
    expect(first.error).toMatchObject({ code: 'SINK_UNAVAILABLE', retryable: true });
    const resume = first.commits.at(-1);
    expect(resume).toMatchObject({ nextSeq: 20, assets: 2_000, cursor: 2_000 });
    const storedBeyondCommit = receiver.batches('run-resume').length - 20;
    expect(storedBeyondCommit).toBeGreaterThan(0);
    const duplicatesBefore = receiver.duplicates;
    receiver.clearFaults();

    const second = await pushRun(sink, {
      runId: 'run-resume',
      ...(resume === undefined ? {} : { resume }),
      events: pagedStream(2_000, total - 2_000, 50, assetOf(prefix)),
    });
    expect(second.error).toBeUndefined();
    expectEachAssetOnce(receiver, prefix, total);
    expect(receiver.duplicates - duplicatesBefore).toBe(storedBeyondCommit);
    expect(second.summary).toMatchObject({ assets: total, batches: 60 });
    expect(receiver.completes).toEqual([{ runId: 'run-resume', assets: total, batches: 60 }]);
    expect(openApiProblems(receiver)).toEqual([]);
  });

  it('fails the run with SINK_REJECTED on a 400 and never claims completeness', async () => {
    const receiver = await tlsReceiver();
    const { sink } = catalogSinkHarness({
      catalog: { url: receiver.url, batchMaxAssets: 100 },
      caPem: testPki().caPem,
    });
    closers.push(() => sink.close());
    receiver.script({ kind: 'slow', delayMs: 5 }, { kind: 'status', status: 400 });
    const result = await pushRun(sink, {
      runId: 'run-400',
      events: pagedStream(0, 2_000, 100, assetOf('cyera/t-400/ds')),
    });
    expect(result.error).toMatchObject({
      code: 'SINK_REJECTED',
      retryable: false,
      context: { runId: 'run-400', status: 400 },
    });
    expect(receiver.completes).toEqual([]);
    expect(receiver.requests.filter((request) => request.path.endsWith('/complete'))).toEqual([]);
    expect(openApiProblems(receiver)).toEqual([]);
  });
});
