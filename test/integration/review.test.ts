import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../agent/cli/cli.ts';
import { loadConfig } from '../../agent/config/load.ts';
import { assembleRuntime } from '../../agent/daemon/assemble.ts';
import { runDaemon } from '../../agent/daemon/daemon.ts';
import type { RunningDaemon } from '../../agent/daemon/daemon.ts';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import { outboxEventsOf } from '../../agent/queue/outbox.ts';
import type { RunEvent } from '../../agent/run/contract.ts';
import { secretStores } from '../../secrets/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import { captureIo } from '../helpers/cli-io.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from './support/redis.ts';

const registry = { connectors: [fixtureConnector], stores: secretStores };
const env = { FIXTURE_SECRET: 'fixture-secret-value', CP_TOKEN: 'cp-token' };
const defer = deferredCleanup();
let source: FixtureSource;
let redis: Redis;

beforeAll(async () => {
  source = await startFixtureSource({ items: 230, secret: 'fixture-secret-value' });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await Promise.all([source.close(), redis.quit()]);
});

interface World {
  readonly daemon: RunningDaemon;
  readonly catalog: CatalogReceiver;
  readonly prefix: string;
  readonly dir: string;
  cli(...argv: string[]): Promise<{ code: number; stdout: string; all: string }>;
}

/**
 * A worker daemon in this process under `review.mode`. A control plane is configured (never
 * reached: no link role) so run events are kept in the Redis outbox, where the test reads them.
 */
async function startWorld(mode: 'first' | 'every'): Promise<World> {
  const catalog = await startCatalogReceiver();
  const prefix = uniquePrefix('review');
  const dir = tempDir('review-daemon', { lifetime: 'file' });
  const text = JSON.stringify({
    catalog: { url: catalog.url, batchMaxAssets: 100 },
    controlPlane: { url: 'https://cp.example.com', agentToken: 'env://CP_TOKEN' },
    redis: { url: REDIS_URL, prefix },
    health: { port: 0, host: '127.0.0.1', probeIntervalMs: 200 },
    policy: { connectors: { fixture: { allowHosts: ['127.0.0.1:*'] } } },
    review: { mode, dir: join(dir, 'review') },
    connections: {
      fx: {
        connector: 'fixture',
        baseUrl: source.url,
        credentials: { secret: 'env://FIXTURE_SECRET' },
      },
    },
  });
  writeFileSync(join(dir, 'config.json'), text);
  const config = loadConfig({ env: {}, file: { path: 'config.json', text } }, registry);
  const logs = captureLogs({ level: 'info' });
  const metrics = createMetrics();
  const runtime = assembleRuntime({
    config,
    registry,
    logger: logs.logger,
    redactor: logs.redactor,
    metrics,
    env,
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
    runtime,
    roles: { link: false, worker: true },
    signal: stop.signal,
    bootId: 'boot1',
    onRunning,
  });
  defer(async () => {
    stop.abort(new PerimeterError('RUN_ABORTED', 'Stopped by the test'));
    await exit.catch(() => undefined);
    await runtime.close();
    await deleteKeys(redis, prefix);
    await catalog.close();
  });
  const cli = async (...argv: string[]): Promise<{ code: number; stdout: string; all: string }> => {
    const io = captureIo({ ...env, PERIMETER_CONFIG: 'config.json' }, dir);
    const code = await runCli(argv, io, { connectors: [fixtureConnector], stores: secretStores });
    return { code, stdout: io.out.join(''), all: io.text() };
  };
  return { daemon: await running, catalog, prefix, dir, cli };
}

/** Runs an extract of connection fx and waits for its final event. */
async function extract(world: World, runId: string): Promise<RunEvent> {
  await world.daemon.target.enqueueRun({
    runId,
    operation: 'extract',
    connectionId: 'fx',
    params: {},
    origin: 'local',
  });
  return waitFor(async () =>
    (await outboxEventsOf(redis, world.prefix, runId)).find((event) =>
      ['succeeded', 'awaiting_review', 'failed'].includes(event.type),
    ),
  );
}

const pushesOf = (catalog: CatalogReceiver, runId: string): number =>
  catalog.requests.filter((r) => r.method === 'POST' && r.path.startsWith(`/v1/runs/${runId}/`))
    .length;

describe('review before the first push', () => {
  it('holds the first extract until approved, pushes the shown bytes, then pushes later extracts directly', async () => {
    const world = await startWorld('first');
    const held = await extract(world, 'rv-first');
    expect(held).toMatchObject({
      type: 'awaiting_review',
      result: { assets: 230, batches: 3, awaitingReview: true },
    });
    expect(pushesOf(world.catalog, 'rv-first')).toBe(0);

    const listed = await world.cli('review', 'list');
    expect(listed.stdout).toMatch(
      /^rv-first {2}fixture {2}230 assets in 3 batches {2}awaiting_review$/m,
    );
    const runs = (await world.cli('runs', 'list', '--json')).stdout;
    expect(JSON.parse(runs)).toContainEqual(
      expect.objectContaining({
        runId: 'rv-first',
        state: 'held',
        progress: { assets: 230, batches: 3 },
      }),
    );
    const heldOnly = (await world.cli('runs', 'list', '--state', 'held', '--json')).stdout;
    expect(JSON.parse(heldOnly)).toEqual([expect.objectContaining({ runId: 'rv-first' })]);
    const shown = (await world.cli('review', 'show', 'rv-first')).stdout;
    const digests = [...shown.matchAll(/seq=(\d+) .* sha256=([0-9a-f]{64})/g)].map(
      ([, seq, sha]) => `${seq} ${sha}`,
    );
    expect(digests).toHaveLength(3);
    expect(pushesOf(world.catalog, 'rv-first')).toBe(0);

    const approved = await world.cli('review', 'approve', 'rv-first');
    expect(approved.all).toContain('run rv-first approved: 3 batches pushed to the catalog');
    expect(world.catalog.batches('rv-first').map((b) => `${b.seq} ${b.sha256}`)).toEqual(digests);

    const direct = await extract(world, 'rv-second');
    expect(direct).toMatchObject({ type: 'succeeded', result: { assets: 230 } });
    expect(world.catalog.batches('rv-second')).toHaveLength(3);
    // The approved run's complete call carries its counts, as the direct push's does.
    const completeOf = (runId: string): unknown =>
      world.catalog.completes.find((c) => c.runId === runId);
    expect(completeOf('rv-first')).toMatchObject({
      assets: 230,
      counts: { partial: false, reconciled: true, kinds: { FixtureItem: { extracted: 230 } } },
    });
    expect((completeOf('rv-first') as { counts: unknown }).counts).toEqual(
      (completeOf('rv-second') as { counts: unknown }).counts,
    );
    expect((await world.cli('review', 'list')).stdout).not.toContain('rv-second');
    const completed = (await world.cli('runs', 'list', '--state', 'completed', '--json')).stdout;
    expect(JSON.parse(completed)).toEqual([expect.objectContaining({ runId: 'rv-second' })]);
  });

  it('holds every extract under "every", and a rejected run pushes nothing', async () => {
    const world = await startWorld('every');
    expect(await extract(world, 'rv-one')).toMatchObject({ type: 'awaiting_review' });
    expect((await world.cli('review', 'approve', 'rv-one')).code).toBe(0);
    expect(await extract(world, 'rv-two')).toMatchObject({ type: 'awaiting_review' });
    const rejected = await world.cli('review', 'reject', 'rv-two');
    expect(rejected.stdout).toBe('run rv-two rejected: 3 batches deleted, nothing pushed\n');
    expect(pushesOf(world.catalog, 'rv-two')).toBe(0);
    expect(world.catalog.batches('rv-one')).toHaveLength(3);
  });
});
