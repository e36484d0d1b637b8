import { readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorCatalog } from '../../connectors/catalog.ts';
import { connectors } from '../../connectors/index.ts';
import { createHttpClient } from '../../agent/http/client.ts';
import { HttpSettingsSchema } from '../../agent/http/settings.ts';
import type { ClosableHttpClient } from '../../agent/http/types.ts';
import { AssetSchema, SecretValue, isPerimeterError } from '../../agent/plugin-api/index.ts';
import type {
  Asset,
  Connector,
  ConnectorContext,
  ConnectorEvent,
  JsonValue,
} from '../../agent/plugin-api/index.ts';
import {
  fixtureConnectorFixture,
  twoHostFixtureConnectorFixture,
} from '../fakes/fixture/fixture.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { connectorFixtures } from './connector-fixtures.ts';
import type { ConnectorFixture, ConnectorHarness } from './connector-fixture.ts';

describe('the connector registry', () => {
  const folders = readdirSync(new URL('../../connectors/', import.meta.url)).filter((name) =>
    statSync(new URL(`../../connectors/${name}`, import.meta.url)).isDirectory(),
  );

  it('lists every folder under connectors/, each under its folder name', () => {
    expect(connectors.map((c) => c.name).sort()).toEqual([...folders].sort());
  });

  it('names each registered connector and its version in the catalog that --help prints', () => {
    expect(connectors.map((c) => ({ name: c.name, version: c.version }))).toEqual(connectorCatalog);
  });

  it('has a conformance fixture for every registered connector', () => {
    const covered = new Set(connectorFixtures.map((f) => f.connector.name));
    expect(connectors.filter((c) => !covered.has(c.name)).map((c) => c.name)).toEqual([]);
  });
});

for (const fixture of [
  fixtureConnectorFixture,
  twoHostFixtureConnectorFixture,
  ...connectorFixtures,
]) {
  describeConformance(fixture);
}

function describeConformance(fixture: ConnectorFixture): void {
  const { connector } = fixture;
  describe(`connector ${fixture.label ?? connector.name} (conformance)`, () => {
    const canary = makeCanary(`${connector.name}-secret`);
    const logs = captureLogs();
    let harness: ConnectorHarness;
    let http: ClosableHttpClient;
    const errorMessages: string[] = [];

    beforeAll(async () => {
      logs.redactor.add(canary);
      harness = await fixture.start({ canary });
      http = createHttpClient({
        policy: {
          allowedHosts: [...declaredHosts(connector, harness), ...harness.allowedHosts],
          allowedCalls: connector.authCalls,
          ...(connector.readPaths === undefined ? {} : { allowedReads: connector.readPaths }),
        },
        settings: HttpSettingsSchema.parse({ retry: { baseDelayMs: 5, maxDelayMs: 20 } }),
        redactor: logs.redactor,
        logger: logs.logger,
        errorDomain: 'source',
        userAgent: 'perimeter-conformance',
      });
    });

    afterAll(async () => {
      await http.close();
      await harness.close();
    });

    const context = (
      signal: AbortSignal,
      cursor?: JsonValue,
    ): ConnectorContext<unknown, unknown> => {
      const credentials = Object.fromEntries(
        Object.entries(harness.config.credentials).map(([k, v]) => [k, new SecretValue(v)]),
      );
      return {
        config: connector.configSchema.parse({ ...harness.config, credentials }),
        params: connector.paramsSchema.parse(harness.params),
        signal,
        logger: logs.logger.child({ component: 'connector', connector: connector.name }),
        http,
        cursor,
        runId: 'conformance',
      };
    };
    const expectFailure = async (run: Promise<unknown>, code: string): Promise<void> => {
      const error = await run.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPerimeterError(error) ? error.code : error).toBe(code);
      errorMessages.push((error as Error).message);
    };

    it('declares its endpoints as origins with unique roles, one on every simulator host', () => {
      const endpoints = connector.endpoints(placeholderConfig(connector, harness));
      expect(endpoints.length).toBeGreaterThan(0);
      expect(new Set(endpoints.map((e) => e.role)).size).toBe(endpoints.length);
      for (const endpoint of endpoints) {
        expect(new URL(endpoint.url).origin).toBe(endpoint.url);
      }
      const declared = declaredHosts(connector, harness);
      expect(harness.allowedHosts.filter((host) => !declared.includes(host))).toEqual([]);
    });

    it('declares every credential its connection holds, in credentials and configSchema', () => {
      const declared = Object.keys(connector.credentials.shape);
      expect(declared.length).toBeGreaterThan(0);
      expect(Object.keys(harness.config.credentials).filter((n) => !declared.includes(n))).toEqual(
        [],
      );
      const withoutCredentials = { ...harness.config, credentials: {} };
      const paths = (connector.configSchema.safeParse(withoutCredentials).error?.issues ?? []).map(
        (issue) => issue.path.join('.'),
      );
      for (const name of declared.filter(
        (n) => connector.credentials.shape[n]?.safeParse(undefined).success === false,
      )) {
        expect(paths).toContain(`credentials.${name}`);
      }
    });

    it('rejects an empty config with the paths of the missing keys', () => {
      const result = connector.configSchema.safeParse({});
      expect(result.success).toBe(false);
      expect(result.error?.issues.some((issue) => issue.path.length > 0)).toBe(true);
    });

    it('yields only schema-valid assets with unique qualified names, and checkpoints', async () => {
      const events = await collect(connector, context(AbortSignal.timeout(60_000)));
      const assets = events.filter((e) => e.type === 'asset').map((e) => e.asset);
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) {
        expect(AssetSchema.safeParse(asset).success).toBe(true);
      }
      expect(new Set(assets.map((a) => a.qualifiedName)).size).toBe(assets.length);
      expect(events.some((e) => e.type === 'checkpoint')).toBe(true);
    });

    it('resumed from any checkpoint yields exactly the assets that followed it', async () => {
      const events = await collect(connector, context(AbortSignal.timeout(60_000)));
      const positions = events.flatMap((e, index) => (e.type === 'checkpoint' ? [index] : []));
      for (const index of sample(positions, 4)) {
        const checkpoint = events[index] as Extract<ConnectorEvent, { type: 'checkpoint' }>;
        const expected = qualifiedNames(events.slice(index + 1));
        const resumed = await collect(
          connector,
          context(AbortSignal.timeout(60_000), checkpoint.cursor),
        );
        expect(qualifiedNames(resumed)).toEqual(expected);
      }
    });

    it('ends its iteration within one second of an abort', async () => {
      harness.slowDown(5_000);
      const controller = new AbortController();
      const reading = collect(connector, context(controller.signal)).then(
        () => undefined,
        (e: unknown) => e,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const abortedAt = performance.now();
      controller.abort();
      await reading;
      harness.restore();
      expect(performance.now() - abortedAt).toBeLessThan(1_000);
    });

    it('fails with SOURCE_AUTH_FAILED when the source rejects the credentials', async () => {
      harness.rejectCredentials();
      await expectFailure(
        collect(connector, context(AbortSignal.timeout(30_000))),
        'SOURCE_AUTH_FAILED',
      );
      harness.restore();
    });

    it('fails with SOURCE_RATE_LIMITED carrying retryAfterMs when throttled for long', async () => {
      harness.rateLimit(120);
      const error = await collect(connector, context(AbortSignal.timeout(30_000))).then(
        () => undefined,
        (e: unknown) => e,
      );
      harness.restore();
      expect(isPerimeterError(error, 'SOURCE_RATE_LIMITED')).toBe(true);
      expect(isPerimeterError(error) ? error.retryAfterMs : undefined).toBe(120_000);
      errorMessages.push((error as Error).message);
    });

    it('checks credentials and discovers selectable resources', async () => {
      const report = await connector.check(context(AbortSignal.timeout(30_000)));
      expect(report.summary.length).toBeGreaterThan(0);
      const resources = [];
      for await (const resource of connector.discover(context(AbortSignal.timeout(30_000)))) {
        resources.push(resource);
      }
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) {
        expect(resource.id.length * resource.kind.length * resource.name.length).toBeGreaterThan(0);
      }
    });

    it('sent only GET and HEAD requests besides its declared auth calls', () => {
      const declared = connector.authCalls.map(
        (call) => new RegExp(`^${call.method} ${call.path.replaceAll('*', '[^/]+')}$`),
      );
      const writes = harness
        .requests()
        .filter((r) => !/^(GET|HEAD) /.test(r) && !declared.some((d) => d.test(r)));
      expect(writes).toEqual([]);
    });

    it('never let the secret reach a log line or an error message', () => {
      expect(logs.lines.length).toBeGreaterThan(0);
      expect(findCanary(canary, { logs: logs.text(), errors: errorMessages.join('\n') })).toEqual(
        [],
      );
    });
  });
}

/** The settings as the agent checks them: credentials replaced by placeholders. */
function placeholderConfig(connector: Connector, harness: ConnectorHarness): unknown {
  const credentials = Object.fromEntries(
    Object.keys(harness.config.credentials).map((name) => [name, new SecretValue('')]),
  );
  return connector.configSchema.parse({ ...harness.config, credentials });
}

/** The hosts of the endpoints the harness's connection declares. */
function declaredHosts(connector: Connector, harness: ConnectorHarness): string[] {
  return connector
    .endpoints(placeholderConfig(connector, harness))
    .map((endpoint) => new URL(endpoint.url).host);
}

async function collect(
  connector: Connector,
  ctx: ConnectorContext<unknown, unknown>,
): Promise<ConnectorEvent[]> {
  const events: ConnectorEvent[] = [];
  for await (const event of connector.read(ctx)) {
    events.push(event);
  }
  return events;
}

function qualifiedNames(events: readonly ConnectorEvent[]): string[] {
  return events
    .filter((e): e is { type: 'asset'; asset: Asset } => e.type === 'asset')
    .map((e) => e.asset.qualifiedName);
}

/** Up to `count` positions spread over the list (first, last and between). */
function sample(positions: readonly number[], count: number): number[] {
  if (positions.length <= count) {
    return [...positions];
  }
  const step = (positions.length - 1) / (count - 1);
  return Array.from({ length: count }, (_, i) => positions[Math.round(i * step)] ?? 0);
}
