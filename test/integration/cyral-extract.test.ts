import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../agent/plugin-api/index.ts';
import type { RunCheckpoint } from '../../agent/sink/types.ts';
import { connector } from '../../connectors/cyral/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { catalogSinkHarness } from '../fakes/catalog/sink-harness.ts';
import type { SinkHarness } from '../fakes/catalog/sink-harness.ts';
import { expectedCyralAssets, total } from '../fakes/cyral/expected.ts';
import { startCyralHarness } from '../fakes/cyral/harness.ts';
import type { CyralHarness } from '../fakes/cyral/harness.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { instantClock } from '../helpers/test-clock.ts';
import { expectEachAssetOnce, pushExtract, pushedText, sentAssets } from './support/delivery.ts';
import type { Attempt } from './support/delivery.ts';

// The Cyral connector into the catalog sink while both sides fail: the catalog must end up with
// exactly the assets a fault-free run of the same control plane delivers, each stored once.
// One simulated control plane serves the whole file; each test arms its faults on it and pushes
// to a catalog of its own.

/** 40 repositories of 3 schemas × 10 tables × 25 columns, 8 bindings a sidecar (paged by 3). */
const SIZE = {
  sidecars: 4,
  repos: 40,
  schemasPerRepo: 3,
  tablesPerSchema: 10,
  columnsPerTable: 25,
  accountsPerRepo: 3,
};
const CATALOG_TOKEN = makeCanary('catalog-token');
const deferEach = deferredCleanup();
const deferAll = deferredCleanup('all');
/** Waits of the source's HTTP client between retries: recorded, and over at once. */
const retryWaits = instantClock();
let cyral: CyralHarness;
/** The fault-free run: each asset's NDJSON line by qualifiedName, and its summary. */
let reference: { readonly assets: Map<string, string>; readonly attempt: Attempt };
let dataRequests = 0;
/** Data requests (counted over the file) at which every token issued stops working. */
const expireTokensAt = new Set<number>();

beforeAll(async () => {
  cyral = await startCyralHarness({
    seed: 11,
    size: SIZE,
    tokens: { issueRefreshTokens: true },
    httpClock: retryWaits,
    onRequest: () => {
      dataRequests += 1;
      if (expireTokensAt.has(dataRequests)) cyral.simulator.expireTokens();
    },
  });
  deferAll(() => cyral.close());
  cyral.simulator.maxPageSize(3);
  const { receiver, sink } = await catalog(deferAll);
  const attempt = await pushExtract(sink, connector, cyral.context());
  expect(attempt.error).toBeUndefined();
  reference = { assets: sentAssets(receiver), attempt };
});

afterEach(() => {
  cyral.simulator.restore();
  expireTokensAt.clear();
});

/** A catalog and a sink pushing to it, closed by `defer`. */
async function catalog(
  defer: (step: () => Promise<void>) => void = deferEach,
): Promise<{ receiver: CatalogReceiver } & SinkHarness> {
  const receiver = await startCatalogReceiver({ token: CATALOG_TOKEN });
  const harness = catalogSinkHarness({ catalog: { url: receiver.url }, tokens: [CATALOG_TOKEN] });
  defer(() => receiver.close());
  defer(() => harness.sink.close());
  return { receiver, ...harness };
}

/** Faults on the source: a rate limit with Retry-After, 5xx, dropped connections, token expiry. */
function sourceFaults(): void {
  cyral.simulator.rateLimit(3, 2);
  cyral.simulator.failEvery(97, 503);
  cyral.simulator.dropConnection(/\/datamap$/, 'before-answer');
  cyral.simulator.dropConnection(/\/userAccounts$/, 'before-answer');
  cyral.simulator.dropConnection(/\/composedBindings\/filter$/, 'before-answer');
  expireTokensAt.add(dataRequests + 100).add(dataRequests + 300);
}

/** Faults on the catalog: 429, 503 and drops at random, the first ack lost, a 503 on complete. */
function catalogFaults(receiver: CatalogReceiver, seed: number): void {
  receiver.script(
    { kind: 'drop', when: 'after-store' },
    { kind: 'status', status: 503, retryAfterSeconds: 0, target: 'complete' },
  );
  receiver.chaos({ seed, rate429: 0.05, rate503: 0.05, rateDrop: 0.04 });
}

/** The catalog holds exactly the reference run's assets, each once, with the same content. */
function expectReferenceAssets(receiver: CatalogReceiver): void {
  expect(new Set(receiver.assetCounts().keys())).toEqual(new Set(reference.assets.keys()));
  expectEachAssetOnce(receiver, reference.assets.size);
  expect(sentAssets(receiver)).toEqual(reference.assets);
}

/** Every secret of the world, by name: none may be in what was pushed or logged. */
function leaks(captured: Record<string, string>): string[] {
  const secrets: Record<string, string> = {
    planted: cyral.simulator.tenant.planted,
    clientSecret: cyral.simulator.clientSecret,
    catalogToken: CATALOG_TOKEN,
    ...Object.fromEntries(cyral.simulator.issuedTokens().map((token, i) => [`token${i}`, token])),
  };
  return Object.entries(secrets).flatMap(([name, value]) =>
    findCanary(value, captured).map((where) => `${name} in ${where}`),
  );
}

/** A cursor's place in the extract's order: stage, then the id last finished in it. */
function place(cursor: JsonValue): string {
  const { stage, after } = cursor as { stage: number; after?: string };
  return `${String(stage)}:${after ?? ''}`;
}

/** Each commit is further on than the one before: in the stream, in assets and in batches. */
function expectCommitsAdvance(commits: readonly RunCheckpoint[]): void {
  for (const [i, commit] of commits.slice(1).entries()) {
    const before = commits[i];
    expect(place(commit.cursor) > place(before?.cursor ?? null)).toBe(true);
    expect(commit.assets).toBeGreaterThan(before?.assets ?? 0);
    expect(commit.nextSeq).toBeGreaterThan(before?.nextSeq ?? 0);
  }
}

describe('cyral extract through the catalog sink', () => {
  it('delivers a 30,000-column control plane exactly once through faults on both sides', async () => {
    const { receiver, sink, logs } = await catalog();
    const statsBefore = cyral.simulator.stats();
    const waitsBefore = retryWaits.delaysMs.length;
    sourceFaults();
    catalogFaults(receiver, 5);

    const result = await pushExtract(sink, connector, cyral.context());

    const expected = total(expectedCyralAssets(cyral.simulator.tenant));
    expect(reference.assets.size).toBe(expected);
    expect(result.error).toBeUndefined();
    expect(result.summary?.assets).toBe(expected);
    expectReferenceAssets(receiver);
    // The first batch's ack was lost: it was sent again under its key and stored once.
    expect(receiver.injected.get('drop-after-store')).toBeGreaterThanOrEqual(1);
    expect(receiver.duplicates).toBeGreaterThanOrEqual(1);
    expect(receiver.completes).toEqual([
      expect.objectContaining({
        runId: 'run-1',
        assets: expected,
        batches: result.summary?.batches,
      }),
    ]);
    const { kinds, partial, skipped, reconciled } = reference.attempt.summary ?? {};
    expect(result.summary).toMatchObject({ kinds, partial, skipped, reconciled });
    expect(result.commits.length).toBeGreaterThan(SIZE.repos / 2);
    expectCommitsAdvance(result.commits);

    const stats = cyral.simulator.stats();
    expect(stats.rateLimited - statsBefore.rateLimited).toBe(2);
    expect(stats.serverErrors - statsBefore.serverErrors).toBeGreaterThanOrEqual(4);
    expect(stats.droppedConnections - statsBefore.droppedConnections).toBe(3);
    expect(stats.expiredTokens - statsBefore.expiredTokens).toBeGreaterThanOrEqual(2);
    expect(stats.clientCredentialsGrants - statsBefore.clientCredentialsGrants).toBeGreaterThan(1);
    // Retry-After: 3 was waited out (on the instant clock) before each retry of the 429s.
    expect(retryWaits.delaysMs.slice(waitsBefore).filter((ms) => ms >= 3_000)).toHaveLength(2);
    expect(cyral.simulator.refused()).toEqual([]);
    expect(cyral.simulator.forbidden()).toEqual([]);
    expect(
      leaks({ pushed: pushedText(receiver), source: cyral.logs.text(), sink: logs.text() }),
    ).toEqual([]);
  });

  it('resumes a run cut off mid-response from its last commit, each asset stored once', async () => {
    const { receiver, sink, logs } = await catalog();
    const repoIds = Array.from({ length: SIZE.repos }, (_, r) => cyral.simulator.tenant.repoId(r));
    const cut = [...repoIds].sort()[25] ?? '';
    sourceFaults();
    cyral.simulator.dropConnection(new RegExp(`^/v1/repos/${cut}/datamap$`), 'mid-body', 1);
    catalogFaults(receiver, 9);

    const failed = await pushExtract(sink, connector, cyral.context());
    expect(failed.error).toMatchObject({
      code: 'SOURCE_UNAVAILABLE',
      retryable: true,
      context: { endpoint: 'GET /v1/repos/{id}/datamap' },
    });
    expectCommitsAdvance(failed.commits);
    const last = failed.commits.at(-1)!;
    // Committed inside the repositories, before the one cut off.
    expect(last.cursor).toMatchObject({ stage: 3 });
    const lastDone = (last.cursor as { after: string }).after;
    expect(lastDone < cut).toBe(true);
    expect(receiver.completes).toEqual([]);

    const before = cyral.simulator.targets().length;
    const resumed = await pushExtract(sink, connector, cyral.context({ cursor: last.cursor }), {
      resume: last,
    });
    expect(resumed.error).toBeUndefined();
    const expected = reference.assets.size;
    expect(resumed.summary?.assets).toBe(expected);
    expectReferenceAssets(receiver);
    // The counts carried in the checkpoint: skips neither lost nor counted twice.
    const { kinds, partial, skipped, reconciled } = reference.attempt.summary ?? {};
    expect(resumed.summary).toMatchObject({ kinds, partial, skipped, reconciled });
    expect(receiver.completes).toEqual([
      expect.objectContaining({ assets: expected, batches: resumed.summary?.batches }),
    ]);
    expectCommitsAdvance([last, ...resumed.commits]);

    // The second attempt read the three lists, then only the repositories after the last one
    // done: nothing of the control plane, its policies and sidecars, committed before.
    const read = cyral.simulator.targets().slice(before);
    const repoOf = (target: string): string =>
      /^(?:GET|POST) \/v1\/repos\/([^/]+)\//.exec(target)?.[1] ?? '';
    const lists = /^GET \/v1\/(repos|sidecars|datalabels)$/;
    expect(read.filter((t) => !lists.test(t) && repoOf(t) <= lastDone)).toEqual([]);
    expect(new Set(read.map(repoOf).filter((id) => id !== ''))).toEqual(
      new Set(repoIds.filter((id) => id > lastDone)),
    );
    expect(
      leaks({ pushed: pushedText(receiver), source: cyral.logs.text(), sink: logs.text() }),
    ).toEqual([]);
  });
});
