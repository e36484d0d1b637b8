import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { Asset, ConnectorEvent } from '../../agent/plugin-api/index.ts';
import { expectedCyralAssets, expectedSkips, total } from '../../test/fakes/cyral/expected.ts';
import { countByType, startCyralHarness } from '../../test/fakes/cyral/harness.ts';
import type { CyralHarness, CyralHarnessOptions } from '../../test/fakes/cyral/harness.ts';
import { extract } from './extract.ts';

// Token lifetimes, renewal and the hard fault profile, on a clock that the simulator moves at
// each request: a run spans many token lifetimes without waiting for any of them.

let harness: CyralHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setUp(options: CyralHarnessOptions): Promise<CyralHarness> {
  harness = await startCyralHarness({ seed: 3, ...options });
  return harness;
}

// Tokens of 2 s are renewed 200 ms ahead (a tenth of their life). Each request moves the clock
// 25 ms, so even the six reads of a repository sent together stay inside that margin.
const LIFETIME_S = 2;
const STEP_MS = 25;
// About 360 requests: 9 s of simulated time, four and a half token lifetimes.
const SIZE = { sidecars: 3, repos: 40 };

function skippedOf(h: CyralHarness): Record<string, number> {
  const summary = h.logs.records().find((r) => r['msg'] === 'Extracted Cyral control plane');
  return (summary?.['skipped'] ?? {}) as Record<string, number>;
}

describe('cyral token session', () => {
  it('runs longer than three token lifetimes without a single 401, renewing ahead of expiry', async () => {
    const h = await setUp({
      size: SIZE,
      tokens: { lifetimeSeconds: LIFETIME_S },
      clockStepMs: STEP_MS,
    });
    const startedMs = h.clock.now();
    const { assets } = await h.readAll(h.context());
    expect(h.clock.now() - startedMs).toBeGreaterThan(3 * LIFETIME_S * 1000);
    expect(countByType(assets)).toEqual(expectedCyralAssets(h.simulator.tenant));
    const stats = h.simulator.stats();
    expect(stats).toMatchObject({ unauthorized: 0, lowercaseBearer: 0, refreshGrants: 0 });
    expect(stats.clientCredentialsGrants).toBeGreaterThan(3);
    expect(stats.snakeCaseGrants).toBe(stats.clientCredentialsGrants);
  });

  it('renews with the refresh token when one was issued, and reads expires_in given as text', async () => {
    const h = await setUp({
      size: SIZE,
      tokens: { lifetimeSeconds: LIFETIME_S, issueRefreshTokens: true, expiresInAsString: true },
      clockStepMs: STEP_MS,
    });
    await h.readAll(h.context());
    const stats = h.simulator.stats();
    expect(stats).toMatchObject({ unauthorized: 0, clientCredentialsGrants: 1 });
    expect(stats.refreshGrants).toBeGreaterThan(2);
  });

  it('requests new client credentials when the refresh token has expired', async () => {
    const h = await setUp({
      size: SIZE,
      tokens: { lifetimeSeconds: LIFETIME_S, issueRefreshTokens: true, refreshLifetimeSeconds: 1 },
      clockStepMs: STEP_MS,
    });
    await h.readAll(h.context());
    const stats = h.simulator.stats();
    expect(stats).toMatchObject({ unauthorized: 0, refreshGrants: 0, failedGrants: 0 });
    expect(stats.clientCredentialsGrants).toBeGreaterThan(3);
  });

  it('falls back to client credentials when the control plane refuses the refresh token', async () => {
    const h = await setUp({
      size: SIZE,
      tokens: { lifetimeSeconds: LIFETIME_S, issueRefreshTokens: true },
      clockStepMs: STEP_MS,
    });
    h.simulator.refuseRefreshTokens();
    await h.readAll(h.context());
    const stats = h.simulator.stats();
    expect(stats).toMatchObject({ unauthorized: 0, refreshGrants: 0 });
    expect(stats.failedGrants).toBeGreaterThan(2);
    expect(stats.clientCredentialsGrants).toBe(stats.failedGrants + 1);
  });

  it('spells the client id fields the older way when told to', async () => {
    const h = await setUp({});
    await h.readAll(h.context({ config: { clientIdField: 'clientId' } }));
    expect(h.simulator.stats()).toMatchObject({ camelCaseGrants: 1, snakeCaseGrants: 0 });
  });

  it('obtains a new token once after a 401 and carries on', async () => {
    const h = await setUp({});
    const events: ConnectorEvent[] = [];
    let expired = false;
    for await (const event of extract(h.context(), { clock: h.clock })) {
      events.push(event);
      if (event.type === 'checkpoint' && !expired) {
        expired = true;
        h.simulator.expireTokens();
      }
    }
    const stats = h.simulator.stats();
    // Requests in flight together may each see the 401; they share one new token.
    expect(stats.expiredTokens).toBeGreaterThan(0);
    expect(stats.clientCredentialsGrants).toBe(2);
    const assets = events.flatMap((e) => (e.type === 'asset' ? [e.asset] : []));
    expect(assets).toHaveLength(total(expectedCyralAssets(h.simulator.tenant)));
  });

  it('fails with SOURCE_AUTH_FAILED when a fresh token is refused too', async () => {
    const h = await setUp({});
    h.simulator.rejectTokens(401);
    const error = await h.readAll(h.context()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect(h.simulator.stats().clientCredentialsGrants).toBe(2);
  });

  it('fails with SOURCE_AUTH_FAILED naming the token endpoint when the credentials are refused', async () => {
    const h = await setUp({});
    h.simulator.rejectCredentials();
    const error = await h.readAll(h.context()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect((error as Error).message).toContain('POST /v1/users/oidc/token');
  });
});

describe('cyral extract under the hard profile', () => {
  it('gives the same assets and skips with page size 1, 429s, 5xx, NotFound as 500 and short tokens', async () => {
    const calm = await setUp({ size: SIZE });
    const expected = await calm.readAll(calm.context());
    await calm.close();

    const h = await setUp({
      size: SIZE,
      tokens: { lifetimeSeconds: LIFETIME_S, issueRefreshTokens: true },
      clockStepMs: STEP_MS,
      httpAttempts: 6,
    });
    h.simulator.maxPageSize(1);
    h.simulator.rateLimitEvery(9, 0);
    h.simulator.failEvery(13, 500);
    h.simulator.notFoundStatus(500);
    const startedMs = h.clock.now();
    const { assets } = await h.readAll(
      h.context({
        config: { bindingsPageSize: 1, retry: { maxAttempts: 6, baseDelayMs: 2, maxDelayMs: 10 } },
      }),
    );
    // The same assets in the same order; only the control plane's host (the port) differs.
    const sources = (list: readonly Asset[]): Asset[] =>
      list.filter((a) => a.typeName !== 'CyralControlPlane');
    expect(assets.map((a) => a.qualifiedName)).toEqual(expected.assets.map((a) => a.qualifiedName));
    expect(sources(assets)).toEqual(sources(expected.assets));
    // Display names repeat; qualified names, built from ids, do not.
    expect(new Set(assets.map((a) => a.qualifiedName)).size).toBe(assets.length);
    expect(new Set(assets.map((a) => a.name)).size).toBeLessThan(assets.length);
    expect(skippedOf(h)).toEqual(expectedSkips(h.simulator.tenant));
    const stats = h.simulator.stats();
    expect(stats.rateLimited).toBeGreaterThan(10);
    expect(stats.serverErrors).toBeGreaterThan(5);
    expect(h.clock.now() - startedMs).toBeGreaterThan(3 * LIFETIME_S * 1000);
    // One binding per page, each page after the last id of the one before.
    const pages = h.simulator.targets().filter((t) => t.includes('composedBindings'));
    expect(pages.some((t) => t.includes('pageAfter='))).toBe(true);
    expect(pages.every((t) => t.includes('pageSize=1'))).toBe(true);
  });
});
