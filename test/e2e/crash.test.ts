import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import { makeCanary } from '../helpers/canary.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import type { AgentProcess } from './support/agent.ts';
import { e2eConfig, inspectQueue } from './support/config.ts';
import { startRedisServer } from './support/redis-server.ts';
import type { TestRedisServer } from './support/redis-server.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';

const ITEMS = 400;
const PAGE = 20;
const defer = deferredCleanup();

const itemRequests = (requests: readonly string[]): number =>
  requests.filter((r) => r === 'GET /v1/items').length;

async function fixtures(delayMs: number) {
  const canary = makeCanary('fixture-secret');
  const source = await startFixtureSource({ items: ITEMS, secret: canary });
  source.always({ status: 200, delayMs });
  const catalog = await startCatalogReceiver();
  defer(async () => {
    await source.close();
    await catalog.close();
  });
  return { canary, source, catalog };
}

function track(agent: AgentProcess): AgentProcess {
  defer(() => stopAgent(agent));
  return agent;
}

describe('crashes', () => {
  it('picks up a run whose worker was killed with SIGKILL and resumes it from its checkpoint, every asset stored once', async () => {
    const { canary, source, catalog } = await fixtures(150);
    const prefix = uniquePrefix('e2e-crash');
    const redis = new Redis(REDIS_URL);
    defer(async () => {
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });
    const configPath = writeConfig(
      e2eConfig({
        redisUrl: REDIS_URL,
        prefix,
        catalogUrl: catalog.url,
        sourceUrl: source.url,
        pageSize: PAGE,
        jobs: [{ id: 'inventory', connection: 'fx' }],
      }),
    );
    const env = { FIXTURE_SECRET: canary };
    const workers = await Promise.all(
      ['worker-1', 'worker-2'].map(async (name) =>
        track(await spawnAgent({ name, configPath, role: 'worker', env })),
      ),
    );
    track(await spawnAgent({ name: 'link', configPath, role: 'link', env }));
    const running = await waitFor(
      async () => {
        for (const worker of workers) {
          const status = (await worker.get('/status')).body as { activeRuns: unknown[] };
          if (status.activeRuns.length > 0) {
            return worker;
          }
        }
        return undefined;
      },
      { timeoutMs: 15_000, what: 'a worker to take the run' },
    );
    const survivor = workers.find((worker) => worker !== running);
    await waitFor(() => catalog.batches().length >= 6, { timeoutMs: 15_000 });
    running.kill('SIGKILL');
    expect((await running.exited).signal).toBe('SIGKILL');
    const readBeforeKill = itemRequests(source.requests());
    source.always({ status: 200, delayMs: 0 });
    await survivor?.waitForLog('Run succeeded', {}, 30_000);
    expect(catalog.completes).toHaveLength(1);
    expect(catalog.conflicts).toEqual([]);
    expect(catalog.assetCounts().size).toBe(ITEMS);
    expect([...catalog.assetCounts().values()].every((count) => count === 1)).toBe(true);
    // Resumed from the checkpoint, not from the start: far fewer pages read again than before the kill.
    const pages = ITEMS / PAGE;
    const readAgain = itemRequests(source.requests()) - pages;
    expect(readAgain).toBeLessThan(readBeforeKill / 2);
  });

  it('rides out a Redis restart mid-run: readiness reports Redis down, the agent reconnects by itself and no run is lost', async () => {
    const { canary, source, catalog } = await fixtures(100);
    const server: TestRedisServer = await startRedisServer();
    defer(() => server.close());
    const prefix = uniquePrefix('e2e-redis');
    const configPath = writeConfig(
      e2eConfig({
        redisUrl: server.url,
        prefix,
        catalogUrl: catalog.url,
        sourceUrl: source.url,
        pageSize: PAGE,
        queue: { lockDurationMs: 15_000 },
        jobs: [
          { id: 'first', connection: 'fx' },
          { id: 'second', connection: 'fx' },
        ],
      }),
    );
    const agent = track(
      await spawnAgent({ name: 'agent', configPath, env: { FIXTURE_SECRET: canary } }),
    );
    await agent.waitForLog('Run started');
    await waitFor(() => catalog.batches().length >= 3, { timeoutMs: 15_000 });
    await server.kill();
    const down = await waitFor(
      async () => {
        const answer = await agent.get('/readyz');
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: 5_000, what: '/readyz to report Redis down' },
    );
    expect(down.body).toMatchObject({
      ready: false,
      state: 'running',
      dependencies: { redis: { ok: false } },
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await server.restart();
    await waitFor(async () => (await agent.get('/readyz')).status === 200, {
      timeoutMs: 15_000,
      what: '/readyz to recover',
    });
    await waitFor(() => catalog.completes.length === 2, {
      timeoutMs: 30_000,
      what: 'both runs to complete',
    });
    expect(catalog.completes.map((call) => call.runId.split('.')[0]).sort()).toEqual([
      'first',
      'second',
    ]);
    expect(catalog.conflicts).toEqual([]);
    expect(agent.records().some((r) => r.msg === 'Redis connection restored')).toBe(true);
    const inspect = inspectQueue(server.url, prefix);
    const counts = await inspect.queue.getJobCounts(
      'completed',
      'failed',
      'waiting',
      'delayed',
      'active',
    );
    await inspect.close();
    expect(counts).toMatchObject({ completed: 2, failed: 0, waiting: 0, delayed: 0, active: 0 });
  });
});

describe('Redis missing at start', () => {
  it('starts unready while Redis is down and runs its jobs once Redis comes up', async () => {
    const { canary, source, catalog } = await fixtures(0);
    const server = await startRedisServer({ stopped: true });
    defer(() => server.close());
    const configPath = writeConfig(
      e2eConfig({
        redisUrl: server.url,
        prefix: uniquePrefix('e2e-late-redis'),
        catalogUrl: catalog.url,
        sourceUrl: source.url,
        jobs: [{ id: 'inventory', connection: 'fx' }],
      }),
    );
    const agent = track(
      await spawnAgent({ name: 'agent', configPath, env: { FIXTURE_SECRET: canary } }),
    );
    const unready = await agent.get('/readyz');
    expect(unready.status).toBe(503);
    expect(unready.body).toMatchObject({
      state: 'running',
      dependencies: { redis: { ok: false } },
    });
    expect((await agent.get('/livez')).status).toBe(200);
    await server.restart();
    await waitFor(async () => (await agent.get('/readyz')).status === 200, { timeoutMs: 15_000 });
    await agent.waitForLog('Run succeeded', {}, 15_000);
    expect(catalog.assetCounts().size).toBe(ITEMS);
  });
});
