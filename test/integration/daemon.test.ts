import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.ts';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import { assembleRuntime } from '../../agent/daemon/assemble.ts';
import type { Runtime } from '../../agent/daemon/assemble.ts';
import { runDaemon } from '../../agent/daemon/daemon.ts';
import type { RunningDaemon } from '../../agent/daemon/daemon.ts';
import { fatalStop } from '../../agent/daemon/lifecycle.ts';
import { secretStores } from '../../secrets/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver, RecordedRequest } from '../fakes/catalog-receiver.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import type { CapturedLogs } from '../helpers/capture-logs.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from './support/redis.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { createHash } from 'node:crypto';
import type { LedgerEntry } from '../../agent/ledger/entry.ts';
import { verifyChain } from '../../agent/ledger/verify.ts';
import { createRedisLedgerStore } from '../../agent/queue/outbound-ledger.ts';

const registry = { connectors: [fixtureConnector], stores: secretStores };
const defer = deferredCleanup();

interface Started {
  readonly logs: CapturedLogs;
  readonly stop: AbortController;
  readonly exit: Promise<number>;
  readonly running: Promise<RunningDaemon>;
  readonly catalog: CatalogReceiver;
  readonly source: FixtureSource;
  readonly prefix: string;
}

/** Runs the daemon in this process (standalone, one job), as `perimeter start` would. */
async function start(
  options: { graceMs?: number; wrap?: (runtime: Runtime) => Runtime } = {},
): Promise<Started> {
  const source = await startFixtureSource({ items: 50, secret: 'fixture-secret-value' });
  const catalog = await startCatalogReceiver();
  const prefix = uniquePrefix('daemon');
  const config = loadConfig(
    {
      env: {},
      file: {
        path: 'daemon.yaml',
        text: JSON.stringify({
          catalog: { url: catalog.url },
          redis: { url: REDIS_URL, prefix },
          queue: { shutdownGraceMs: options.graceMs ?? 2_000 },
          health: { port: 0, host: '127.0.0.1', probeIntervalMs: 200 },
          policy: { connectors: { fixture: { allowHosts: ['127.0.0.1:*'] } } },
          connections: {
            fx: {
              connector: 'fixture',
              baseUrl: source.url,
              credentials: { secret: 'env://FIXTURE_SECRET' },
            },
          },
          jobs: [{ id: 'inventory', connection: 'fx' }],
        }),
      },
    },
    registry,
  );
  const logs = captureLogs({ level: 'info' });
  const metrics = createMetrics();
  const runtime = assembleRuntime({
    config,
    registry,
    logger: logs.logger,
    redactor: logs.redactor,
    metrics,
    env: { FIXTURE_SECRET: 'fixture-secret-value' },
  });
  const stop = new AbortController();
  let onRunning: (daemon: RunningDaemon) => void = () => undefined;
  const running = new Promise<RunningDaemon>((resolve) => {
    onRunning = resolve;
  });
  const exit = runDaemon({
    config,
    logger: logs.logger,
    metrics,
    runtime: options.wrap?.(runtime) ?? runtime,
    roles: { link: true, worker: true },
    signal: stop.signal,
    bootId: 'boot1',
    onRunning,
  });
  defer(async () => {
    stop.abort();
    await exit.catch(() => undefined);
    await runtime.close();
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await source.close();
    await catalog.close();
  });
  return { logs, stop, exit, running, catalog, source, prefix };
}

/** The Redis ledger holds one entry per catalog request, digest for digest; /status shows its head. */
async function expectLedgerOfPushes(
  url: string,
  prefix: string,
  catalog: CatalogReceiver,
): Promise<void> {
  const redis = new Redis(REDIS_URL);
  // The health probe's reach check carries no metadata and is not recorded.
  const pushes = (): RecordedRequest[] => catalog.requests.filter((r) => r.method === 'POST');
  try {
    const store = createRedisLedgerStore({ client: redis, prefix, retentionDays: 1 });
    // The entry is appended once the catalog's answer is read, just after the receiver stored it.
    const chain = await waitFor(async () => {
      const read = await store.read();
      return read.entries.length === pushes().length ? read : undefined;
    });
    const entries = chain.entries.map((line) => JSON.parse(line) as LedgerEntry);
    const digest = (body: Buffer): string => createHash('sha256').update(body).digest('hex');
    expect(entries.map((e) => `${e.path} ${e.sha256}`).sort()).toEqual(
      pushes()
        .map((r) => `${r.path} ${digest(r.body)}`)
        .sort(),
    );
    expect(verifyChain(chain).ok).toBe(true);
    const status = (await (await fetch(`${url}/status`)).json()) as { ledger: unknown };
    expect(status.ledger).toEqual(chain.head);
  } finally {
    redis.disconnect();
  }
}

describe('daemon lifecycle', () => {
  it('starts unready, runs, and drains to exit 0 with every part closed', async () => {
    const { logs, stop, exit, running, catalog, prefix } = await start();
    const daemon = await running;
    const url = `http://127.0.0.1:${daemon.healthPort}`;
    await waitFor(() => catalog.completes.length === 1);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await expectLedgerOfPushes(url, prefix, catalog);
    expect(
      await daemon.target.enqueueRun({
        runId: 'inventory.boot1',
        operation: 'extract',
        connectionId: 'fx',
        params: {},
        origin: 'local',
      }),
    ).toBe('duplicate');
    stop.abort(new PerimeterError('RUN_ABORTED', 'Stopped by SIGTERM'));
    expect(await exit).toBe(0);
    expect(daemon.lifecycle.state).toBe('stopped');
    await expect(fetch(`${url}/livez`)).rejects.toThrow();
    const messages = logs.records().map((record) => record['msg']);
    expect(messages).toEqual(
      expect.arrayContaining([
        'Agent running',
        'Shutdown requested',
        'Agent draining',
        'Agent stopped',
      ]),
    );
  });

  it('logs a fatal stop as fatal, drains, and exits 1', async () => {
    const { logs, stop, exit, running } = await start();
    await running;
    stop.abort(fatalStop(new TypeError('x is undefined')));
    expect(await exit).toBe(1);
    expect(logs.records().find((record) => record['level'] === 'fatal')).toMatchObject({
      msg: 'Fatal error; shutting down',
    });
  });

  it('gives up at the hard deadline (grace + 5 s) when a close step hangs, logging it, and exits 1', async () => {
    const { logs, stop, exit, running } = await start({
      graceMs: 0,
      wrap: (runtime) => ({ ...runtime, close: () => new Promise<void>(() => undefined) }),
    });
    await running;
    const stoppedAt = Date.now();
    stop.abort(new PerimeterError('RUN_ABORTED', 'Stopped by SIGTERM'));
    expect(await exit).toBe(1);
    const took = Date.now() - stoppedAt;
    expect(took).toBeGreaterThanOrEqual(4_900);
    expect(took).toBeLessThan(7_000);
    expect(logs.records().some((record) => record['msg'] === 'Shutdown deadline exceeded')).toBe(
      true,
    );
  });
});
