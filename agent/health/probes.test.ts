import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { fixtureRegistry } from '../../test/helpers/run-world.ts';
import { loadConfig } from '../config/load.ts';
import { assembleRuntime } from '../daemon/assemble.ts';
import type { Runtime } from '../daemon/assemble.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { buildHealthApp } from './app.ts';
import { HealthBoard } from './board.ts';
import { RecentErrors } from './recent-errors.ts';
import { startDependencyProbes } from './probes.ts';
import type { DependencyProbes } from './probes.ts';

const token = makeCanary('catalog-token');
let catalog: CatalogReceiver;
const opened: { runtime: Runtime; probes: DependencyProbes; board: HealthBoard }[] = [];

beforeAll(async () => {
  catalog = await startCatalogReceiver({ token });
});

afterEach(async () => {
  for (const { runtime, probes, board } of opened.splice(0)) {
    board.close();
    await probes.close();
    await runtime.close();
  }
});

afterAll(async () => {
  await catalog.close();
});

/** The worker's catalog probe with `catalog.token` from the environment, and /readyz over it. */
async function readyzWith(tokenValue: string) {
  const logs = captureLogs();
  const config = loadConfig(
    {
      env: {},
      file: {
        path: 'probe.yaml',
        text: `catalog:\n  url: ${catalog.url}\n  token: env://CATALOG_TOKEN\nsecretStores:\n  env: { type: env, allow: ["CATALOG_*"] }\n`,
      },
    },
    fixtureRegistry,
  );
  const runtime = assembleRuntime({
    config,
    registry: fixtureRegistry,
    logger: logs.logger,
    redactor: logs.redactor,
    metrics: createMetrics(),
    env: { CATALOG_TOKEN: tokenValue },
    output: { kind: 'none' },
  });
  const probes = startDependencyProbes({ runtime, catalog: config.catalog, intervalMs: 60_000 });
  const board = new HealthBoard({
    identity: {
      version: '1.2.3',
      agentId: 'agent-a',
      roles: ['worker'],
      startedAt: new Date(),
      secretStores: [],
      connectors: [],
    },
    metrics: createMetrics(),
    state: () => 'running',
    errors: new RecentErrors(2),
  });
  opened.push({ runtime, probes, board });
  board.attach({
    redis: () => ({ ready: true, clients: { main: 'ready' } }),
    probes: probes.probes,
  });
  const probe = probes.probes.find((candidate) => candidate.name === 'catalog');
  await probe?.check(new AbortController().signal);
  const response = await buildHealthApp(board.deps()).inject({ url: '/readyz' });
  return { response, logs: logs.text() };
}

describe('the catalog probe of /readyz', () => {
  it('is ready when the catalog accepts catalog.token', async () => {
    const { response } = await readyzWith(token);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ dependencies: { catalog: { ok: true } } });
    const whoami = catalog.requests.filter((request) => request.path === '/v1/whoami');
    expect(whoami.at(-1)?.headers['authorization']).toBe(`Bearer ${token}`);
  });

  it('is not ready while the catalog refuses the token, naming catalog.token and never the token', async () => {
    const wrong = makeCanary('wrong-token');
    const { response, logs } = await readyzWith(wrong);
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      dependencies: {
        catalog: {
          ok: false,
          detail: 'SINK_REJECTED',
          refusedSetting: 'catalog.token',
          required: true,
        },
      },
    });
    expect(findCanary(wrong, { body: response.body, logs })).toEqual([]);
    expect(findCanary(token, { body: response.body, logs })).toEqual([]);
  });
});
