import { gunzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { operatorStores } from '../helpers/operator-stores.ts';
import type { OperatorStore } from '../helpers/operator-stores.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, dumpKeys, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import type { AgentProcess } from './support/agent.ts';
import { e2eConfig } from './support/config.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';

const STORES = operatorStores;
const defer = deferredCleanup('all');

describe('runs whose credentials live in each cloud vault, through the daemon', () => {
  it('succeed, and leave no trace of any value in Redis, the logs or the catalog payloads', async () => {
    const canaries: Record<string, string> = {};
    const stores: Record<string, OperatorStore> = {};
    const sources: Record<string, FixtureSource> = {};
    for (const [name, start] of Object.entries(STORES)) {
      canaries[name] = makeCanary(`${name}-credential`);
      stores[name] = await start(canaries[name]);
      sources[name] = await startFixtureSource({ items: 40, secret: canaries[name] });
      defer(() => stores[name]!.close());
      defer(() => sources[name]!.close());
    }
    const catalog = await startCatalogReceiver();
    const prefix = uniquePrefix('e2e-vaults');
    const redis = new Redis(REDIS_URL);
    defer(async () => {
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await catalog.close();
    });
    const base = e2eConfig({
      redisUrl: REDIS_URL,
      prefix,
      catalogUrl: catalog.url,
      sourceUrl: Object.values(sources)[0]!.url,
    });
    const secretStores = parseYaml(
      `secretStores:${Object.values(stores)
        .map((s) => s.yaml)
        .join('')}`,
    ) as { secretStores: Record<string, unknown> };
    const names = Object.keys(STORES);
    const config = {
      ...base,
      secretStores: secretStores.secretStores,
      connections: Object.fromEntries(
        names.map((name) => [
          `src-${name}`,
          {
            connector: 'fixture',
            baseUrl: sources[name]!.url,
            pageSize: 10,
            credentials: { secret: stores[name]!.ref },
          },
        ]),
      ),
      jobs: names.map((name) => ({ id: `vault-run-${name}`, connection: `src-${name}` })),
    };
    const env = Object.assign({}, ...Object.values(stores).map((s) => s.env)) as Record<
      string,
      string
    >;
    const agent: AgentProcess = await spawnAgent({
      name: 'vaults',
      configPath: writeConfig(config),
      env,
    });
    defer(() => stopAgent(agent));

    await waitFor(() => catalog.completes.length === names.length, {
      timeoutMs: 60_000,
      what: 'four completed runs',
    });
    expect(catalog.completes.map((c) => c.assets)).toEqual(names.map(() => 40));
    expect(catalog.assetCounts().size).toBe(40); // the four sources serve the same item names

    const dumped = await dumpKeys(redis, prefix);
    expect(Object.keys(dumped).length).toBeGreaterThan(0);
    const redisDump = JSON.stringify(dumped);
    const payloads = Buffer.concat(
      catalog.requests.map((r) =>
        r.headers['content-encoding'] === 'gzip' && r.outcome !== 'dropped'
          ? gunzipSync(r.body)
          : r.body,
      ),
    );
    const status = await agent.get('/status');
    const metrics = await agent.get('/metrics');
    const sample = (name: string): number => {
      const line = metrics.text.split('\n').find((l) => l.startsWith(name));
      return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    expect(
      sample('perimeter_runs_total{connector="fixture",operation="extract",outcome="succeeded"}'),
    ).toBe(4);
    expect(
      sample('perimeter_run_duration_seconds_count{connector="fixture",operation="extract"}'),
    ).toBe(4);
    expect(sample('perimeter_assets_total{connector="fixture"}')).toBe(160);
    expect(sample('perimeter_batches_total{outcome="stored"}')).toBeGreaterThan(0);
    expect(sample('perimeter_batch_bytes_total')).toBeGreaterThan(0);
    for (const store of names) {
      expect(
        sample(`perimeter_secret_fetches_total{store="${store}",outcome="fetched"}`),
      ).toBeGreaterThanOrEqual(1);
    }
    for (const name of names) {
      for (const secret of [canaries[name]!, ...stores[name]!.credentials()]) {
        const leaks = findCanary(secret, {
          redis: redisDump,
          logs: agent.output(),
          payloads,
          status: status.text,
          metrics: metrics.text,
        });
        expect(leaks, `${name}: a value leaked`).toEqual([]);
      }
    }
  });
});
