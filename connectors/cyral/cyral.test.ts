import { afterEach, describe, expect, it } from 'vitest';
import { AssetSchema, isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { Asset } from '../../agent/plugin-api/index.ts';
import { expectedCyralAssets, expectedSkips } from '../../test/fakes/cyral/expected.ts';
import { countByType, startCyralHarness } from '../../test/fakes/cyral/harness.ts';
import type { CyralHarness, CyralHarnessOptions } from '../../test/fakes/cyral/harness.ts';
import { findCanary } from '../../test/helpers/canary.ts';
import { connector } from './index.ts';

let harness: CyralHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setUp(options: CyralHarnessOptions = {}): Promise<CyralHarness> {
  harness = await startCyralHarness({ seed: 7, ...options });
  return harness;
}

/** The `skipped` counts of the run's summary line. */
function skippedOf(h: CyralHarness): Record<string, number> {
  const summary = h.logs.records().find((r) => r['msg'] === 'Extracted Cyral control plane');
  return (summary?.['skipped'] ?? {}) as Record<string, number>;
}

function qualifiedNames(assets: readonly Asset[]): string[] {
  return assets.map((asset) => asset.qualifiedName);
}

async function failureOf(run: Promise<unknown>): Promise<unknown> {
  return run.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('cyral extract', () => {
  it('extracts every kind, schema-valid, with unique names built from ids and links that resolve', async () => {
    const h = await setUp();
    const { assets } = await h.readAll(h.context());
    expect(countByType(assets)).toEqual(expectedCyralAssets(h.simulator.tenant));
    for (const asset of assets) {
      expect(AssetSchema.safeParse(asset).success).toBe(true);
    }
    const names = new Set(qualifiedNames(assets));
    expect(names.size).toBe(assets.length);
    // Display names repeat (two sidecars are `sidecar-0`), qualified names do not.
    const sidecarNames = assets.filter((a) => a.typeName === 'CyralSidecar').map((a) => a.name);
    expect(new Set(sidecarNames).size).toBeLessThan(sidecarNames.length);
    const targets = assets.flatMap((a) =>
      (a.relationships ?? []).map((r) => r.targetQualifiedName),
    );
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((target) => !names.has(target))).toEqual([]);
    for (const asset of assets) {
      expect(asset.parentQualifiedName === undefined || names.has(asset.parentQualifiedName)).toBe(
        true,
      );
    }
  });

  it('tags data-map columns with their labels and links labels, policies, bindings and rules', async () => {
    const h = await setUp({ size: { tablesPerSchema: 4 } });
    const { assets } = await h.readAll(h.context());
    const byType = (type: string): Asset[] => assets.filter((a) => a.typeName === type);
    const column = byType('CyralColumn')[0];
    expect(column?.classifications?.[0]?.typeName).toMatch(/ \(Cyral Data Label\)$/);
    expect(column?.relationships?.[0]?.typeName).toBe('CyralColumnDataLabel');
    const kinds = (type: string): Set<string> =>
      new Set(byType(type).flatMap((a) => (a.relationships ?? []).map((r) => r.typeName)));
    expect(kinds('CyralPolicy')).toEqual(
      new Set(['CyralPolicyDataLabel', 'CyralPolicyRepository']),
    );
    expect(kinds('CyralBinding')).toEqual(
      new Set(['CyralBindingRepository', 'CyralBindingListener']),
    );
    expect(kinds('CyralAccessRule')).toEqual(new Set(['CyralAccessRuleUserAccount']));
    expect(kinds('CyralUserAccount')).toEqual(new Set(['CyralUserAccountRepository']));
    expect(kinds('CyralRepository')).toEqual(new Set(['CyralRepositoryAccessGateway']));
    // A Dremio space path keeps its dots inside one schema segment; a `/` in a table is escaped.
    expect(byType('CyralSchema').some((a) => a.name === 'space_0.folder')).toBe(true);
    expect(byType('CyralTable').some((a) => a.qualifiedName.endsWith('/orders%2F3'))).toBe(true);
  });

  it('counts what answers NotFound as skipped with a warning, and the run completes', async () => {
    const h = await setUp();
    await h.readAll(h.context());
    expect(skippedOf(h)).toEqual(expectedSkips(h.simulator.tenant));
    const warnings = h.logs.records().filter((r) => r['msg'] === 'Skipped a Cyral object');
    const unbound = h.simulator.tenant.repoId(4);
    expect(warnings).toContainEqual(
      expect.objectContaining({
        kind: 'accessGateway',
        repoId: unbound,
        endpoint: 'GET /v1/repos/{id}/accessGateway',
      }),
    );
    expect(warnings).toContainEqual(
      expect.objectContaining({ kind: 'CyralPolicy', endpoint: 'GET /v1/policies/{id}' }),
    );
  });

  it('yields each stale policy id and unbound gateway as a skipped event, with the policy total', async () => {
    const h = await setUp();
    const { events } = await h.readAll(h.context());
    const tenant = h.simulator.tenant;
    const skips = events.flatMap((e) => (e.type === 'skipped' ? [e] : []));
    expect(skips).toContainEqual({
      type: 'skipped',
      kind: 'CyralPolicy',
      id: tenant.id('stale-policy', 0),
      reason: 'notFound',
      message: 'GET /v1/policies/{id} answered NotFound',
    });
    expect(skips.filter((e) => e.kind === 'accessGateway').map((e) => e.id)).toContain(
      tenant.repoId(4),
    );
    const reported = events.flatMap((e) => (e.type === 'reported' ? [e.total] : []));
    const policies = events.filter((e) => e.type === 'asset' && e.asset.typeName === 'CyralPolicy');
    expect(reported.reduce((a, b) => a + b, 0)).toBe(policies.length + tenant.size.stalePolicies);
    // Every skip is yielded before the checkpoint that covers it.
    expect(events.at(-1)?.type).toBe('checkpoint');
  });

  it('skips a repository slower than repositoryTimeoutMs and goes on with the next', async () => {
    let slowRepo = '';
    const h = await setUp({
      stepFor: (path) => (path === `/v1/repos/${slowRepo}/datamap` ? 10 * 60_000 : undefined),
    });
    slowRepo = h.simulator.tenant.repoId(2);
    const { events, assets } = await h.readAll(
      h.context({ config: { repositoryTimeoutMs: 60_000 } }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'skipped',
        kind: 'CyralRepository',
        id: slowRepo,
        reason: 'timeout',
      }),
    );
    const repos = assets.filter((a) => a.typeName === 'CyralRepository');
    expect(repos).toHaveLength(h.simulator.tenant.size.repos - 1);
    expect(assets.some((a) => a.qualifiedName.includes(`/${slowRepo}`))).toBe(false);
  });

  it('extracts legacy policies alone where the control plane serves no v2 policies over REST', async () => {
    const h = await setUp({ servesPoliciesV2: false });
    h.simulator.notFoundStatus(500);
    const { assets } = await h.readAll(h.context());
    const expected = expectedCyralAssets(h.simulator.tenant, { policiesV2Served: false });
    expect(countByType(assets)).toEqual(expected);
    const absent = h.logs
      .records()
      .filter((r) => r['msg'] === 'Cyral serves no v2 policies of this type');
    expect(absent.map((r) => `${String(r['endpoint'])} ${String(r['policyType'])}`)).toEqual([
      'GET /v2/policies/{type} local',
      'GET /v2/policies/{type} global',
      'GET /v2/policies/{type} approval',
    ]);
    // Absent APIs are not skips: only the unbound gateways and the stale policy id are.
    expect(skippedOf(h)).toEqual(expectedSkips(h.simulator.tenant));
  });

  it('never lets a planted secret, the client secret or an issued token into an asset or a log', async () => {
    const h = await setUp({
      tokens: { issueRefreshTokens: true, lifetimeSeconds: 2 },
      clockStepMs: 100,
    });
    const { assets } = await h.readAll(h.context());
    const captured = { assets: JSON.stringify(assets), logs: h.logs.text() };
    expect(findCanary(h.simulator.tenant.planted, captured)).toEqual([]);
    expect(findCanary(h.simulator.clientSecret, captured)).toEqual([]);
    const tokens = h.simulator.issuedTokens();
    expect(tokens.length).toBeGreaterThan(2);
    for (const token of tokens) {
      expect(findCanary(token, captured)).toEqual([]);
    }
    // Only the kinds of auth schemes survive, never a path or an ARN.
    const accounts = assets.filter((a) => a.typeName === 'CyralUserAccount');
    expect(new Set(accounts.map((a) => a.attributes['authSchemeKind'])).size).toBeGreaterThan(3);
    expect(JSON.stringify(accounts)).not.toMatch(/arn:aws|secret\/data/);
  });

  it('sends only GETs, the token request and the filter POST, and never reads audit logs', async () => {
    const h = await setUp();
    await h.readAll(h.context());
    expect(h.simulator.refused()).toEqual([]);
    expect(h.simulator.forbidden()).toEqual([]);
    const methods = new Set(h.simulator.requests().map((r) => r.split(' ')[0]));
    expect(methods).toEqual(new Set(['GET', 'POST']));
    const posts = h.simulator.requests().filter((r) => r.startsWith('POST '));
    expect(posts.every((r) => /oidc\/token$|composedBindings\/filter$/.test(r))).toBe(true);
  });

  it('declares the paths it reads, so a GET of audit logs or access tokens never leaves', async () => {
    const h = await setUp();
    await h.readAll(h.context());
    // Every GET of a whole extract is declared...
    expect(connector.readPaths).toContain('/v1/repos/*/accessGateway');
    expect(connector.readPaths).toContain('/v2/policies/*');
    // ...and anything else is refused by the agent's client before a socket opens.
    for (const path of ['/v1/accessTokens', '/v1/auditlog/query', '/v1/repos/r/userAccounts/a']) {
      const error = await failureOf(
        h.http.request({
          method: 'GET',
          url: `${h.simulator.url}${path}`,
          signal: h.context().signal,
        }),
      );
      expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    }
    expect(h.simulator.requests().filter((r) => /accessTokens|auditlog/.test(r))).toEqual([]);
  });

  it('extracts only the selected repositories and skips a selected id that is gone', async () => {
    const h = await setUp();
    const chosen = h.simulator.tenant.repoId(1);
    const params = { repositoryIds: [chosen, 'deleted-repo'] };
    const { assets } = await h.readAll(h.context({ params }));
    const repos = assets.filter((a) => a.typeName === 'CyralRepository');
    expect(repos.map((a) => a.attributes['id'])).toEqual([chosen]);
    expect(skippedOf(h)['CyralRepository']).toBe(1);
  });

  it('fails with a code naming the endpoint when a whole kind cannot be read', async () => {
    const h = await setUp();
    h.simulator.failPath(/^\/v1\/datalabels$/, 403);
    const denied = await failureOf(h.readAll(h.context()));
    expect(isPerimeterError(denied, 'SOURCE_ACCESS_DENIED')).toBe(true);
    expect((denied as Error).message).toContain('GET /v1/datalabels');
    h.simulator.restore();
    h.simulator.failPath(/^\/v1\/users\/groups$/, 503);
    const down = await failureOf(h.readAll(h.context()));
    expect(isPerimeterError(down, 'SOURCE_UNAVAILABLE')).toBe(true);
    expect((down as Error).message).toContain('GET /v1/users/groups');
  });

  it('discovers repositories and sidecars for selection, duplicate names and all', async () => {
    const h = await setUp();
    const resources = [];
    for await (const resource of connector.discover(h.context())) {
      resources.push(resource);
    }
    const { size } = h.simulator.tenant;
    expect(resources.filter((r) => r.kind === 'repository')).toHaveLength(size.repos);
    expect(resources.filter((r) => r.kind === 'sidecar')).toHaveLength(size.sidecars);
    expect(resources[0]?.attributes?.['type']).toBe('postgresql');
  });
});
