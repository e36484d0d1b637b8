// One extract per cloud secret store, end to end: the operator's YAML through loadConfig, the
// real runtime with every store registered, the store's SDK against its fake, the fixture source
// accepting the canary credential, and the catalog receiver. Then Vault token expiry mid-run.
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.ts';
import type { Registry } from '../../agent/config/load.ts';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import type { PerimeterError } from '../../agent/plugin-api/index.ts';
import { assembleRuntime } from '../../agent/daemon/assemble.ts';
import type { Runtime } from '../../agent/daemon/assemble.ts';
import type { RunResult, RunSpec } from '../../agent/run/types.ts';
import { secretStores } from '../../secrets/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource, ScriptedAnswer } from '../fakes/fixture/source.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import type { CapturedLogs } from '../helpers/capture-logs.ts';
import { rejectionOf } from '../helpers/matchers.ts';
import { operatorStores, vaultStore } from '../helpers/operator-stores.ts';
import type { OperatorStore } from '../helpers/operator-stores.ts';
import { waitFor } from '../helpers/wait-for.ts';

const REGISTRY: Registry = { connectors: [fixtureConnector], stores: secretStores };

/** A source holding `canary` as its client secret, a catalog, and the runtime reading `store`. */
interface World {
  readonly source: FixtureSource;
  readonly receiver: CatalogReceiver;
  readonly runtime: Runtime;
  readonly logs: CapturedLogs;
  run(ref: string, runId: string): Promise<RunResult>;
  close(): Promise<void>;
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  const pending = closers;
  closers = [];
  for (const close of pending.reverse()) {
    await close();
  }
});

async function startWorld(store: OperatorStore, canary: string, items: number): Promise<World> {
  closers.push(() => store.close());
  const source = await startFixtureSource({ items, secret: canary });
  const receiver = await startCatalogReceiver({});
  const yaml = `
catalog:
  url: ${receiver.url}
  retry: { baseDelayMs: 5, maxDelayMs: 50 }
http:
  retry: { baseDelayMs: 5, maxDelayMs: 50 }
policy:
  connectors:
    fixture:
      allowHosts: ["${new URL(source.url).host}"]
secretStores:${store.yaml}
`;
  const config = loadConfig({ env: {}, file: { path: 'perimeter.yaml', text: yaml } }, REGISTRY);
  const logs = captureLogs();
  const runtime = assembleRuntime({
    config,
    registry: REGISTRY,
    logger: logs.logger,
    redactor: logs.redactor,
    metrics: createMetrics(),
    env: { ...store.env },
  });
  const spec = (ref: string, runId: string): RunSpec => ({
    runId,
    operation: 'extract',
    params: {},
    origin: 'local',
    connection: {
      connector: 'fixture',
      config: { baseUrl: source.url, pageSize: 5, credentials: { secret: ref } },
    },
  });
  const world: World = {
    source,
    receiver,
    runtime,
    logs,
    run: (ref, runId) =>
      runtime.executor.execute(spec(ref, runId), { signal: AbortSignal.timeout(60_000) }),
    close: async () => {
      await runtime.close();
      await Promise.all([source.close(), receiver.close()]);
    },
  };
  closers.push(() => world.close());
  return world;
}

/** Everything the world let out: logs, the catalog's payloads (gunzipped), error messages. */
function captured(
  world: World,
  errors: readonly PerimeterError[],
): Record<string, Buffer | string> {
  const bodies = world.receiver.requests.map((request) =>
    request.headers['content-encoding'] === 'gzip' ? gunzipSync(request.body) : request.body,
  );
  return {
    logs: world.logs.text(),
    catalog: Buffer.concat(bodies),
    errors: errors
      .map((error) => `${error.message} ${JSON.stringify(error.toSummary())}`)
      .join('\n'),
  };
}

const STORES = Object.entries(operatorStores).map(([scheme, start]) => ({ scheme, start }));

describe.each(STORES)('an extract with its credential in $scheme', ({ start }) => {
  it('succeeds through the real runtime, and no form of the credential leaves the process', async () => {
    const canary = makeCanary('source-client-secret');
    const store = await start(canary);
    const world = await startWorld(store, canary, 23);

    const result = await world.run(store.ref, 'run-1');
    const failure = await rejectionOf(world.run(store.ref.replace('#secret', '#missing'), 'run-2'));

    expect(result.assets).toBe(23);
    expect(world.receiver.assetCounts().size).toBe(23);
    expect(world.receiver.completes).toEqual([
      expect.objectContaining({ runId: 'run-1', assets: 23, batches: result.batches }),
    ]);
    expect(failure.code).toBe('SECRET_SELECTOR_INVALID');
    const leaks = captured(world, [failure]);
    expect(findCanary(canary, leaks)).toEqual([]);
    for (const credential of store.credentials()) {
      expect(findCanary(credential, leaks)).toEqual([]);
    }
  });
});

describe('a run reading from Vault while its token expires', () => {
  /** Slow pages, so that the run outlives the token; `at` replaces the answer to one page. */
  function pages(count: number, delayMs: number, at: Record<number, ScriptedAnswer> = {}) {
    return Array.from({ length: count }, (_, page) => at[page] ?? { status: 200, delayMs });
  }

  it('renews the token and logs in again at its max TTL, and a forced refresh mid-run still reads', async () => {
    const canary = makeCanary('source-client-secret');
    const store = await vaultStore(canary, { ttlSeconds: 1, maxTtlSeconds: 2, renewable: true });
    const world = await startWorld(store, canary, 60);
    // Page 9 (about 2.4 s in, past the max TTL) answers 401: the run reads the secret again.
    world.source.script(...pages(14, 300, { 8: { status: 401 } }));

    const result = await world.run(store.ref, 'long-run');

    expect(result.assets).toBe(60);
    expect(world.receiver.assetCounts().size).toBe(60);
    expect(store.fake.counts.renewals).toBeGreaterThanOrEqual(1);
    expect(store.fake.counts.logins).toBeGreaterThanOrEqual(2);
    expect(store.fake.counts.reads).toBe(2);
    expect(world.source.requests().filter((r) => r === 'POST /v1/token')).toHaveLength(2);
    await world.runtime.close();
    expect(store.fake.liveTokens()).toBe(0);
    expect(findCanary(canary, captured(world, []))).toEqual([]);
  });

  it('replaces a token Vault stopped accepting mid-run, without failing the run', async () => {
    const canary = makeCanary('source-client-secret');
    const store = await vaultStore(canary);
    const world = await startWorld(store, canary, 40);
    world.source.script(...pages(10, 100, { 5: { status: 401 } }));

    const running = world.run(store.ref, 'revoked-run');
    await waitFor(() => world.source.requests().length >= 3);
    // As after a token's TTL ran out behind the agent's back: Vault answers 403 from now on.
    store.fake.revokeAllTokens();
    const result = await running;

    expect(result.assets).toBe(40);
    expect(store.fake.counts.logins).toBe(2);
    expect(store.fake.counts.reads).toBe(3);
    expect(findCanary(canary, captured(world, []))).toEqual([]);
  });
});
