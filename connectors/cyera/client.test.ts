import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError, systemClock } from '../../agent/plugin-api/index.ts';
import { startCyeraHarness } from '../../test/fakes/cyera/harness.ts';
import type { CyeraHarness } from '../../test/fakes/cyera/harness.ts';
import type { CyeraSimulatorOptions } from '../../test/fakes/cyera/simulator.ts';
import { findCanary } from '../../test/helpers/canary.ts';
import { CyeraClient } from './client.ts';

let harness: CyeraHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setUp(
  options: CyeraSimulatorOptions = {},
  config: Record<string, unknown> = {},
  now?: () => number,
): Promise<{ client: CyeraClient; harness: CyeraHarness }> {
  harness = await startCyeraHarness(options);
  const ctx = harness.context({ config });
  const clock = now === undefined ? undefined : { ...systemClock, now };
  return { client: new CyeraClient({ ...ctx, clock }), harness };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) {
    all.push(item);
  }
  return all;
}

describe('CyeraClient', () => {
  it('pages through datastores with limit and offset until the total is reached', async () => {
    const { client, harness: h } = await setUp(
      { size: { datastores: 5 } },
      { pageSizes: { datastores: 2 } },
    );
    const uids = (await collect(client.datastores())).map((d) => d.uid);
    expect(uids).toEqual([0, 1, 2, 3, 4].map((i) => h.simulator.tenant.datastoreUid(i)));
    expect(h.simulator.targets()).toEqual([
      '/v2/datastores?limit=2&offset=0',
      '/v2/datastores?limit=2&offset=2',
      '/v2/datastores?limit=2&offset=4',
    ]);
  });

  it('pages through issues and a datastore identities at their page size', async () => {
    const { client, harness: h } = await setUp(
      { size: { datastores: 2, issuesPerDatastore: 60, identitiesPerDatastore: 7 } },
      { pageSizes: { issues: 50, identities: 3 } },
    );
    expect(await collect(client.issues())).toHaveLength(120);
    const uid = h.simulator.tenant.datastoreUid(1);
    expect(await collect(client.identities(uid))).toHaveLength(7);
    const pages = h.simulator.targets().map((target) => target.split('?')[0]);
    expect(pages.filter((p) => p === '/v3/issues')).toHaveLength(3);
    expect(pages.filter((p) => p === `/v1/datastores/${uid}/identities`)).toHaveLength(3);
  });

  it('logs in once and reuses the token while it is fresh', async () => {
    const { client, harness: h } = await setUp();
    await collect(client.datastores());
    await collect(client.issues());
    expect(h.simulator.stats().logins).toBe(1);
    expect(h.simulator.requests().filter((r) => r === 'POST /v1/login')).toHaveLength(1);
  });

  it('logs in again before the token expires, without meeting a 401', async () => {
    let nowMs = Date.now();
    const { client, harness: h } = await setUp({ expiresInSeconds: 3600 }, {}, () => nowMs);
    await client.countDatastores();
    nowMs += 3600_000 - 30_000; // inside the refresh margin, before the expiry
    await client.countDatastores();
    expect(h.simulator.stats()).toMatchObject({ logins: 2, unauthorized: 0 });
  });

  it('logs in again once after a 401 on a data call, then succeeds', async () => {
    const { client, harness: h } = await setUp();
    await client.countDatastores();
    h.simulator.expireTokens();
    expect(await client.countDatastores()).toBe(h.simulator.tenant.size.datastores);
    expect(h.simulator.stats()).toMatchObject({ logins: 2, unauthorized: 1 });
  });

  it('gives up with SOURCE_AUTH_FAILED when the fresh token is refused too', async () => {
    const { client, harness: h } = await setUp();
    h.simulator.rejectTokens(401);
    const error = await client.countDatastores().catch((e: unknown) => e);
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect(h.simulator.stats()).toMatchObject({ logins: 2, unauthorized: 2 });
  });

  it('reports a 403 that survives a fresh login as SOURCE_ACCESS_DENIED', async () => {
    const { client, harness: h } = await setUp();
    h.simulator.rejectTokens(403);
    const error = await client.countDatastores().catch((e: unknown) => e);
    expect(isPerimeterError(error, 'SOURCE_ACCESS_DENIED')).toBe(true);
    expect(h.simulator.stats()).toMatchObject({ logins: 2, unauthorized: 2 });
  });

  it('fails with SOURCE_AUTH_FAILED on a wrong secret and never echoes it', async () => {
    harness = await startCyeraHarness();
    const secret = 'wrong-secret-4f1c9a7e2b';
    const client = new CyeraClient(harness.context({ secret }));
    const error = await client.login().catch((e: unknown) => e);
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect((error as Error).message).toContain('POST /v1/login answered 401');
    expect(harness.simulator.stats()).toMatchObject({ logins: 0, failedLogins: 1 });
    const captured = { message: (error as Error).message, logs: harness.logs.text() };
    expect(findCanary(secret, captured)).toEqual([]);
  });

  it('waits out a 429 with Retry-After and a 503 and then reads the page', async () => {
    const { client, harness: h } = await setUp();
    await client.login();
    h.simulator.rateLimit(0, 1);
    expect(await client.countDatastores()).toBe(3);
    h.simulator.failWith(503, 1);
    expect(await client.countDatastores()).toBe(3);
    expect(h.simulator.stats()).toMatchObject({ rateLimited: 1, serverErrors: 1 });
  });

  it('sends only GET requests besides the login', async () => {
    const { client, harness: h } = await setUp();
    await collect(client.datastores());
    await collect(client.issues());
    await collect(client.identities(h.simulator.tenant.datastoreUid(0)));
    expect(h.simulator.refused()).toEqual([]);
    const methods = new Set(h.simulator.requests().map((r) => r.split(' ')[0]));
    expect([...methods].sort()).toEqual(['GET', 'POST']);
  });
});
