import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startCyeraSimulator } from '../fakes/cyera/simulator.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import { e2eConfig, inspectQueue } from './support/config.ts';

const defer = deferredCleanup();

/** Polls /livez until stopped; collects every answer that was not 200 (or did not come). */
function watchLiveness(get: () => Promise<{ status: number }>): {
  failures: string[];
  polls(): number;
  stop(): Promise<void>;
} {
  const failures: string[] = [];
  let polls = 0;
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const { status } = await get();
        if (status !== 200) {
          failures.push(`status ${status}`);
        }
      } catch (error) {
        failures.push(String(error));
      }
      polls += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    failures,
    polls: () => polls,
    stop: async () => {
      stopping.abort();
      await loop;
    },
  };
}

describe('runs isolated from the agent', () => {
  it('fails a run that allocates without bound with RUN_RESOURCE_EXHAUSTED while a concurrent Cyera run succeeds and /livez never fails', async () => {
    const cyera = await startCyeraSimulator({
      size: { datastores: 2, tablesPerSchema: 10, columnsPerTable: 10 },
    });
    // Slow until the runaway run is over, so the Cyera run is surely in flight when it dies.
    cyera.slowDown(250);
    const fixture = await startFixtureSource({ items: 1, secret: 'unused-fixture-secret' });
    const catalog = await startCatalogReceiver();
    const prefix = uniquePrefix('e2e-isolation');
    const redis = new Redis(REDIS_URL);
    const inspect = inspectQueue(REDIS_URL, prefix);
    defer(async () => {
      await inspect.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await cyera.close();
      await fixture.close();
      await catalog.close();
    });
    const config = e2eConfig({
      redisUrl: REDIS_URL,
      prefix,
      catalogUrl: catalog.url,
      sourceUrl: fixture.url,
      queue: { concurrency: 2, attempts: 2, backoffMs: 100, isolation: 'thread' },
      jobs: [
        { id: 'cyera-inventory', connection: 'cy' },
        { id: 'runaway', connection: 'hog' },
      ],
    });
    const policy = config['policy'] as { connectors: Record<string, unknown> };
    policy.connectors['cyera'] = { allowHosts: ['127.0.0.1:*'] };
    const connections = config['connections'] as Record<string, unknown>;
    connections['cy'] = {
      connector: 'cyera',
      baseUrl: cyera.url,
      credentials: { clientId: 'env://CYERA_CLIENT_ID', secret: 'env://CYERA_SECRET' },
    };
    connections['hog'] = { connector: 'hog', credentials: {} };
    const agent = await spawnAgent({
      name: 'isolation',
      configPath: writeConfig(config),
      env: { CYERA_CLIENT_ID: cyera.clientId, CYERA_SECRET: cyera.secret },
    });
    defer(() => stopAgent(agent));
    const liveness = watchLiveness(() => agent.get('/livez'));
    defer(() => liveness.stop());

    const jobOf = async (name: string) =>
      (await inspect.queue.getJobs(['active', 'completed', 'failed', 'delayed', 'waiting'])).find(
        (job) => job.id?.startsWith(`${name}.`),
      );
    const runaway = await waitFor(
      async () =>
        (await (await jobOf('runaway'))?.getState()) === 'failed' ? jobOf('runaway') : undefined,
      { timeoutMs: 60_000, what: 'the runaway run to fail' },
    );
    // Both attempts hit the cap and were retried per policy; the Cyera run was still going.
    expect(runaway.attemptsMade).toBe(2);
    expect(runaway.failedReason).toMatch(/^RUN_RESOURCE_EXHAUSTED: .*64 MiB/);
    expect(await (await jobOf('cyera-inventory'))?.getState()).toBe('active');
    cyera.restore();
    const inventory = await waitFor(
      async () =>
        (await (await jobOf('cyera-inventory'))?.getState()) === 'completed'
          ? jobOf('cyera-inventory')
          : undefined,
      { timeoutMs: 60_000, what: 'the Cyera run to succeed' },
    );
    expect(inventory.returnvalue).toMatchObject({ assets: expect.any(Number) as number });
    expect((inventory.returnvalue as { assets: number }).assets).toBeGreaterThan(400);
    expect(catalog.completes.map((call) => call.runId)).toContain(inventory.id);
    const failures = agent
      .records()
      .filter((record) => record.msg === 'Run did not succeed')
      .map((record) => record['code']);
    expect(failures).toEqual(['RUN_RESOURCE_EXHAUSTED', 'RUN_RESOURCE_EXHAUSTED']);

    await liveness.stop();
    expect(liveness.polls()).toBeGreaterThan(5);
    expect(liveness.failures).toEqual([]);
    // The agent itself never went down: it drains and exits cleanly.
    agent.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
