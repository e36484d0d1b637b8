import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, dumpKeys, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import type { AgentProcess } from './support/agent.ts';
import { e2eConfig, inspectQueue } from './support/config.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';

const ITEMS = 300;
const defer = deferredCleanup();

async function setup(options: {
  delayMs: number;
  queue?: Record<string, unknown>;
  jobs: Record<string, unknown>[];
}) {
  const canary = makeCanary('fixture-secret');
  const source: FixtureSource = await startFixtureSource({ items: ITEMS, secret: canary });
  source.always({ status: 200, delayMs: options.delayMs });
  const catalog: CatalogReceiver = await startCatalogReceiver();
  const prefix = uniquePrefix('e2e-standalone');
  const redis = new Redis(REDIS_URL);
  defer(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await source.close();
    await catalog.close();
  });
  const configPath = writeConfig(
    e2eConfig({
      redisUrl: REDIS_URL,
      prefix,
      catalogUrl: catalog.url,
      sourceUrl: source.url,
      jobs: options.jobs,
      ...(options.queue ? { queue: options.queue } : {}),
    }),
  );
  const start = async (name: string, role?: 'worker'): Promise<AgentProcess> => {
    const agent = await spawnAgent({
      name,
      configPath,
      env: { FIXTURE_SECRET: canary },
      ...(role ? { role } : {}),
    });
    defer(() => stopAgent(agent));
    return agent;
  };
  return { canary, source, catalog, prefix, redis, start };
}

describe('standalone mode (no control plane)', () => {
  it('runs the config jobs, serves health, and on SIGTERM mid-run turns unready at once, finishes the run and exits 0', async () => {
    const { canary, catalog, prefix, redis, start } = await setup({
      delayMs: 150,
      jobs: [
        { id: 'inventory', connection: 'fx' },
        {
          id: 'nightly',
          connection: 'fx',
          schedule: { cron: '0 3 * * *', timezone: 'Europe/Paris' },
        },
      ],
    });
    const agent = await start('agent');
    const started = await agent.waitForLog('Run started');
    const runId = String(started['runId']);
    expect(runId).toMatch(/^inventory\./);
    const ready = await agent.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      ready: true,
      state: 'running',
      dependencies: { redis: { ok: true } },
    });
    await waitFor(
      async () =>
        ((await agent.get('/readyz')).body as { dependencies: Record<string, { ok: boolean }> })
          .dependencies['catalog']?.ok,
    );
    const status = await agent.get('/status');
    expect(status.body).toMatchObject({
      roles: ['link', 'worker'],
      state: 'running',
      activeRuns: [{ runId, connector: 'fixture', operation: 'extract' }],
    });
    const metrics = await agent.get('/metrics');
    expect(metrics.text).toMatch(/perimeter_active_runs 1/);
    expect(metrics.text).toMatch(/perimeter_queue_jobs\{state="active"\} 1/);
    const inspect = inspectQueue(REDIS_URL, prefix);
    const schedulers = await inspect.queue.getJobSchedulers();
    await inspect.close();
    expect(schedulers.map((s) => [s.key, s.pattern, s.tz])).toEqual([
      ['local.nightly', '0 3 * * *', 'Europe/Paris'],
    ]);

    agent.kill('SIGTERM');
    const draining = await waitFor(
      async () => {
        const answer = await agent.get('/readyz').catch(() => undefined);
        return answer?.status === 503 ? answer : undefined;
      },
      { timeoutMs: 1_000, intervalMs: 10 },
    );
    expect(draining.body).toMatchObject({ ready: false, state: 'draining' });
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect(catalog.completes.map((call) => call.runId)).toEqual([runId]);
    expect(catalog.assetCounts().size).toBe(ITEMS);
    expect(agent.records().find((r) => r.msg === 'Run succeeded')).toMatchObject({
      runId,
      assets: ITEMS,
    });

    const leaks = findCanary(canary, {
      logs: agent.output(),
      status: status.text,
      metrics: metrics.text,
      ...(await dumpKeys(redis, prefix)),
    });
    expect(leaks).toEqual([]);
  });

  it('stops a run at its checkpoint when the grace period ends, requeues it without an attempt, and the next worker resumes it', async () => {
    const { catalog, prefix, source, start } = await setup({
      delayMs: 200,
      queue: { shutdownGraceMs: 600, attempts: 1 },
      jobs: [{ id: 'inventory', connection: 'fx' }],
    });
    const first = await start('first');
    await first.waitForLog('Run started');
    await waitFor(() => catalog.batches().length >= 3, { timeoutMs: 10_000 });
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(
      first
        .records()
        .some((r) => r.msg === 'Run stopped by shutdown; requeued at its last checkpoint'),
    ).toBe(true);
    const inspect = inspectQueue(REDIS_URL, prefix);
    const [job] = await inspect.queue.getJobs(['delayed', 'waiting']);
    await inspect.close();
    expect(job?.attemptsMade).toBe(0);
    const checkpoint = job?.data.checkpoint;
    expect(checkpoint?.nextSeq).toBeGreaterThan(0);
    const requestsBefore = source.requests().filter((r) => r === 'GET /v1/items').length;

    source.always({ status: 200, delayMs: 0 });
    const second = await start('second', 'worker');
    await second.waitForLog('Run succeeded');
    expect(catalog.completes).toHaveLength(1);
    expect(catalog.conflicts).toEqual([]);
    expect([...catalog.assetCounts().values()].every((count) => count === 1)).toBe(true);
    expect(catalog.assetCounts().size).toBe(ITEMS);
    // Resumed, not restarted: the second worker read only what the checkpoint had not covered.
    const requestsAfter =
      source.requests().filter((r) => r === 'GET /v1/items').length - requestsBefore;
    expect(requestsAfter).toBeLessThanOrEqual(ITEMS / 20 + 1 - (checkpoint?.assets ?? 0) / 20);
  });

  it('keeps the lock of a CPU-heavy run four times longer than the lock, so a second worker never takes it over', async () => {
    const { catalog, source, start } = await setup({
      delayMs: 0,
      // 15 pages of 20 items, each kept busy 300 ms: ~4.5 s against a 1 s lock.
      queue: { lockDurationMs: 1_000, stalledIntervalMs: 500, maxStalledCount: 1 },
      jobs: [{ id: 'heavy', connection: 'fx', params: { cpuMsPerPage: 300 } }],
    });
    const first = await start('first');
    const second = await start('second', 'worker');
    await waitFor(() => catalog.completes.length === 1, {
      timeoutMs: 30_000,
      what: 'the run to complete',
    });
    const started = [first, second].flatMap((agent) =>
      agent.records().filter((r) => r.msg === 'Run started'),
    );
    expect(started).toHaveLength(1);
    // Not restarted elsewhere: every page was read exactly once (plus the empty last page).
    expect(source.requests().filter((r) => r === 'GET /v1/items')).toHaveLength(ITEMS / 20);
    expect([...catalog.assetCounts().values()].every((count) => count === 1)).toBe(true);
  });
});
