import { afterEach, describe, expect, it } from 'vitest';
import { AssetSchema, isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { Asset, DiscoveredResource } from '../../agent/plugin-api/index.ts';
import { expectedAssets, indexesByUid } from '../../test/fakes/cyera/expected.ts';
import { countByType, readAll, startCyeraHarness } from '../../test/fakes/cyera/harness.ts';
import type { CyeraHarness } from '../../test/fakes/cyera/harness.ts';
import type { CyeraSimulatorOptions } from '../../test/fakes/cyera/simulator.ts';
import { PERSONAL_MARKER, RECORD_MARKER } from '../../test/fakes/cyera/vocabulary.ts';
import { connector } from './index.ts';

let harness: CyeraHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setUp(options: CyeraSimulatorOptions = {}): Promise<CyeraHarness> {
  harness = await startCyeraHarness(options);
  return harness;
}

function withoutTotal(counts: ReturnType<typeof expectedAssets>): Record<string, number> {
  const { total: _total, ...byType } = counts;
  return byType;
}

/** Every asset valid, qualified names unique, every parent yielded before its child. */
function expectWellFormedTree(assets: readonly Asset[]): void {
  const seen = new Set<string>();
  for (const asset of assets) {
    expect(AssetSchema.safeParse(asset).success).toBe(true);
    expect(seen.has(asset.qualifiedName)).toBe(false);
    if (asset.parentQualifiedName !== undefined) {
      expect(seen.has(asset.parentQualifiedName)).toBe(true);
    }
    seen.add(asset.qualifiedName);
  }
}

describe('cyera connector', () => {
  it('declares its hosts, its one auth call and a name equal to its folder', () => {
    expect(connector.name).toBe('cyera');
    expect(connector.defaultHosts).toEqual(['api.cyera.io', 'api-eu.cyera.io']);
    expect(connector.authCalls).toEqual([{ method: 'POST', path: '/v1/login' }]);
  });

  it('checks the credentials with a login and one cheap read', async () => {
    const h = await setUp({ size: { datastores: 4 } });
    expect(await connector.check(h.context())).toEqual({
      summary: 'logged in; 4 datastores visible',
    });
    expect(h.simulator.requests()).toEqual(['POST /v1/login', 'GET /v2/datastores']);
  });

  it('reports rejected credentials from check as SOURCE_AUTH_FAILED', async () => {
    const h = await setUp();
    h.simulator.rejectCredentials();
    const error = await connector.check(h.context()).catch((e: unknown) => e);
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
  });

  it('discovers datastores filtered by provider and name pattern', async () => {
    const h = await setUp({ size: { datastores: 7 } });
    const found: DiscoveredResource[] = [];
    const ctx = h.context({ params: { provider: 'snowflake', namePattern: 'sim-*' } });
    for await (const resource of connector.discover(ctx)) {
      found.push(resource);
    }
    const snowflake = [0, 3, 6].map((i) => h.simulator.tenant.datastoreUid(i));
    expect(found.map((r) => r.id)).toEqual(snowflake);
    expect(found[0]).toMatchObject({
      kind: 'datastore',
      name: 'sim-snowflake-000',
      attributes: { type: 'SNOWFLAKE_DATABASE', provider: 'Snowflake', engine: 'snowflake' },
    });
  });

  it('extracts a small tenant: exactly the expected assets, as a well-formed tree', async () => {
    const h = await setUp();
    const { assets, checkpoints, events } = await readAll(h.context());
    expect(countByType(assets)).toEqual(withoutTotal(expectedAssets(h.simulator.tenant)));
    expectWellFormedTree(assets);
    const order = indexesByUid(h.simulator.tenant).map((i) => h.simulator.tenant.datastoreUid(i));
    expect(checkpoints).toEqual([
      { finishedDatastoreUids: order.slice(0, 1) },
      { finishedDatastoreUids: order.slice(0, 2) },
      { finishedDatastoreUids: order.slice(0, 3) },
    ]);
    expect(events.at(-1)?.type).toBe('checkpoint');
  });

  it('attaches issue and access summaries to databases, including one without tables', async () => {
    const h = await setUp({ size: { datastores: 1 } });
    const { assets } = await readAll(h.context());
    const archive = assets.find((a) => a.name === 'ARCHIVE_DB');
    expect(archive?.typeName).toBe('CyeraDatabase');
    expect(archive?.attributes['issues']).toMatchObject({ total: 2 });
    const db0 = assets.find((a) => a.typeName === 'CyeraDatabase' && a.name === 'DB_0');
    expect(db0?.attributes['identities']).toMatchObject({ total: 2, admins: 1 });
  });

  it('extracts only the selected datastores', async () => {
    const h = await setUp({ size: { datastores: 4 } });
    const uid = h.simulator.tenant.datastoreUid(2);
    const { assets } = await readAll(h.context({ params: { datastoreUids: [uid] } }));
    expect(countByType(assets)).toEqual(withoutTotal(expectedAssets(h.simulator.tenant, [2])));
    const streamed = h.simulator.targets().filter((t) => t.startsWith('/v1/tables/stream'));
    expect(streamed).toEqual([`/v1/tables/stream?datastoreUid=${uid}`]);
  });

  it('fails before any asset when a selected datastore is not visible', async () => {
    const h = await setUp();
    const ctx = h.context({ params: { datastoreUids: ['0198dead-0000-7000-8000-000000000000'] } });
    const error = await readAll(ctx).catch((e: unknown) => e);
    expect(isPerimeterError(error, 'SOURCE_REQUEST_FAILED')).toBe(true);
    expect(h.simulator.requests()).not.toContain('GET /v1/tables/stream');
  });

  it('resumes from a checkpoint, skipping the datastores it names', async () => {
    const h = await setUp();
    const first = await readAll(h.context());
    const cursor = first.checkpoints[0]!;
    const before = h.simulator.targets().length;
    const resumed = await readAll(h.context({ cursor }));
    const order = indexesByUid(h.simulator.tenant);
    expect(countByType(resumed.assets)).toEqual(
      withoutTotal(expectedAssets(h.simulator.tenant, order.slice(1))),
    );
    const finished = h.simulator.tenant.datastoreUid(order[0]!);
    const later = h.simulator.targets().slice(before);
    expect(later.some((t) => t.includes(finished))).toBe(false);
    const firstNames = new Set(first.assets.map((a) => a.qualifiedName));
    expect(resumed.assets.every((a) => firstNames.has(a.qualifiedName))).toBe(true);
  });

  it('offers checkpoints inside a datastore, each resuming with exactly the assets after it', async () => {
    const h = await setUp({ size: { datastores: 2, tablesPerSchema: 4 } });
    const config = { checkpointEveryAssets: 15 };
    const full = await readAll(h.context({ config }));
    const inside = full.events.flatMap((event, index) =>
      event.type === 'checkpoint' && 'current' in (event.cursor as object) ? [index] : [],
    );
    expect(inside.length).toBeGreaterThan(4);
    for (const index of inside) {
      const event = full.events[index]!;
      const cursor = event.type === 'checkpoint' ? event.cursor : undefined;
      const resumed = await readAll(h.context({ config, cursor }));
      const after = full.events
        .slice(index + 1)
        .flatMap((e) => (e.type === 'asset' ? [e.asset] : []));
      expect(resumed.assets).toEqual(after);
    }
  });

  it('refuses to resume inside a datastore whose stream changed since the checkpoint', async () => {
    const h = await setUp({ size: { datastores: 1 } });
    const datastoreUid = h.simulator.tenant.datastoreUid(0);
    const cursor = {
      finishedDatastoreUids: [],
      current: { datastoreUid, records: 3, lastKey: 'gone' },
    };
    const error = (await readAll(h.context({ cursor })).catch((e: unknown) => e)) as Error;
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_INVALID')).toBe(true);
    expect(error.message).toContain('changed for datastore');
  });

  it('survives a token expiry, 429s and a dropped connection with every asset exactly once', async () => {
    const h = await setUp({ size: { tablesPerSchema: 6 } });
    const clean = await readAll(h.context());
    h.simulator.expireTokensMidStream(9);
    h.simulator.dropConnection(17);
    h.simulator.rateLimit(0, 2);
    const faulty = await readAll(h.context());
    expect(faulty.assets).toEqual(clean.assets);
    expect(h.simulator.stats()).toMatchObject({ rateLimited: 2, streamsBroken: 2 });
  });

  it('fails on a malformed stream line with SOURCE_RESPONSE_INVALID naming endpoint and line', async () => {
    const h = await setUp({ layout: { blankLineEvery: 2 } });
    h.simulator.malformedLine(4);
    const error = (await readAll(h.context()).catch((e: unknown) => e)) as Error;
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_INVALID')).toBe(true);
    expect(error.message).toMatch(/^GET \/v1\/tables\/stream line 4 is not JSON/);
  });

  it('keeps personal fields and record text out of every asset and log line', async () => {
    const h = await setUp();
    const { assets } = await readAll(h.context());
    const text = JSON.stringify(assets) + h.logs.text();
    const identity = h.simulator.tenant.identity(0, 1);
    for (const value of [
      PERSONAL_MARKER,
      RECORD_MARKER,
      identity['jobTitle'],
      identity['displayName'],
      identity['uid'],
    ]) {
      expect(text).not.toContain(String(value));
    }
  });

  it('sends nothing but GET requests besides the login', async () => {
    const h = await setUp();
    await connector.check(h.context());
    for await (const _ of connector.discover(h.context())) {
      // drain
    }
    await readAll(h.context());
    expect(h.simulator.refused()).toEqual([]);
    const writes = h.simulator.requests().filter((r) => !r.startsWith('GET '));
    expect(new Set(writes)).toEqual(new Set(['POST /v1/login']));
  });
});
