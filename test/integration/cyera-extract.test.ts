import { afterEach, describe, expect, it } from 'vitest';
import type { RunCheckpoint } from '../../agent/run/types.ts';
import type { Sink } from '../../agent/sink/types.ts';
import { connector } from '../../connectors/cyera/index.ts';
import type { CyeraContext } from '../../connectors/cyera/extract.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { catalogSinkHarness } from '../fakes/catalog/sink-harness.ts';
import { expectedAssets, indexesByUid } from '../fakes/cyera/expected.ts';
import { startCyeraHarness } from '../fakes/cyera/harness.ts';
import type { CyeraHarness } from '../fakes/cyera/harness.ts';
import { PERSONAL_MARKER } from '../fakes/cyera/vocabulary.ts';
import { findCanary } from '../helpers/canary.ts';
import { expectEachAssetOnce, pushExtract, pushedText } from './support/delivery.ts';
import type { Attempt } from './support/delivery.ts';

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function setUp(size: Record<string, number>): Promise<{
  cyera: CyeraHarness;
  receiver: CatalogReceiver;
  sink: Sink;
}> {
  const cyera = await startCyeraHarness({ seed: 42, size });
  const receiver = await startCatalogReceiver();
  const { sink } = catalogSinkHarness({ catalog: { url: receiver.url } });
  closers.push(
    () => cyera.close(),
    () => receiver.close(),
    () => sink.close(),
  );
  return { cyera, receiver, sink };
}

/** One attempt of the run, as the run executor makes it. */
function pushCyera(sink: Sink, ctx: CyeraContext, resume?: RunCheckpoint): Promise<Attempt> {
  return pushExtract(sink, connector, ctx, {
    runId: 'cyera-run',
    ...(resume === undefined ? {} : { resume }),
  });
}

describe('cyera extract through the catalog sink', () => {
  it('delivers a 120,000-column tenant exactly once through faults on both sides', async () => {
    const { cyera, receiver, sink } = await setUp({
      datastores: 3,
      databasesPerDatastore: 2,
      schemasPerDatabase: 4,
      tablesPerSchema: 50,
      columnsPerTable: 100,
    });
    cyera.simulator.dropConnection(70, 2);
    cyera.simulator.expireTokensMidStream(250);
    cyera.simulator.rateLimit(0, 2);
    receiver.chaos({ seed: 7, rate429: 0.05, rate503: 0.05, rateDrop: 0.02 });
    const result = await pushCyera(sink, cyera.context());
    const expected = expectedAssets(cyera.simulator.tenant);
    expect(expected.CyeraColumn).toBe(120_000);
    expect(result.error).toBeUndefined();
    expect(result.summary?.assets).toBe(expected.total);
    expectEachAssetOnce(receiver, expected.total);
    expect(receiver.completes).toHaveLength(1);
    expect(cyera.simulator.stats()).toMatchObject({ streamsBroken: 3, rateLimited: 2 });
    expect(cyera.simulator.refused()).toEqual([]);
    const sent = pushedText(receiver);
    expect(sent).toContain('CyeraColumn');
    expect(findCanary(cyera.simulator.secret, { sent, logs: cyera.logs.text() })).toEqual([]);
  });

  it('resumes a failed run from its last commit with no asset lost or conflicting', async () => {
    const { cyera, receiver, sink } = await setUp({
      datastores: 3,
      databasesPerDatastore: 2,
      schemasPerDatabase: 3,
      tablesPerSchema: 20,
      columnsPerTable: 50,
    });
    const { tenant } = cyera.simulator;
    const second = tenant.datastoreUid(indexesByUid(tenant)[1]!);
    cyera.simulator.malformedLine(40, second);
    const config = { checkpointEveryAssets: 700 };
    const failed = await pushCyera(sink, cyera.context({ config }));
    expect(failed.error).toMatchObject({ code: 'SOURCE_RESPONSE_INVALID' });
    const last = failed.commits.at(-1)!;
    // The last commit is inside the second datastore, 39 good lines in.
    expect(last.cursor).toMatchObject({ current: { datastoreUid: second } });
    const before = cyera.simulator.targets().length;

    cyera.simulator.restore();
    const resumed = await pushCyera(sink, cyera.context({ config, cursor: last.cursor }), last);
    const first = tenant.datastoreUid(indexesByUid(tenant)[0]!);
    expect(
      cyera.simulator
        .targets()
        .slice(before)
        .some((t) => t.includes(first)),
    ).toBe(false);
    const expected = expectedAssets(tenant);
    expect(resumed.error).toBeUndefined();
    expect(resumed.summary?.assets).toBe(expected.total);
    expectEachAssetOnce(receiver, expected.total);
    expect(receiver.completes).toEqual([
      expect.objectContaining({
        runId: 'cyera-run',
        assets: expected.total,
        batches: resumed.summary?.batches,
      }),
    ]);
    const stored = pushedText(receiver);
    expect(stored).toContain('CyeraColumn');
    expect(stored).not.toContain(PERSONAL_MARKER);
  });
});
