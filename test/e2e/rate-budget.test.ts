import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import { makeCanary } from '../helpers/canary.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import type { AgentProcess } from './support/agent.ts';
import { e2eConfig } from './support/config.ts';

const RATE = 20;
const BURST = 5;
const defer = deferredCleanup();

/** A process's requests drawn from the budget so far, and the budget it shows, from /metrics. */
async function scrape(
  agent: AgentProcess,
): Promise<{ drawn: number; budget: number; limited: number }> {
  const text = (await agent.get('/metrics')).text;
  const value = (name: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{connector="fixture"`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  return {
    drawn: value('perimeter_source_budget_wait_ms_count'),
    budget: value('perimeter_source_budget_requests_per_second'),
    limited: value('perimeter_source_rate_limited_total'),
  };
}

/** The most requests any one-second window holds. */
function busiestSecond(times: readonly number[]): number {
  let most = 0;
  for (let start = 0, end = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= 1_000) {
      start += 1;
    }
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** Requests per second of each process while the source sees `requests` more requests. */
async function ratesOver(
  agents: readonly AgentProcess[],
  seen: () => number,
  requests: number,
): Promise<number[]> {
  const before = await Promise.all(agents.map(scrape));
  const startMs = Date.now();
  const target = seen() + requests;
  await waitFor(() => seen() >= target, { timeoutMs: 20_000, what: `${requests} requests` });
  const after = await Promise.all(agents.map(scrape));
  const seconds = (Date.now() - startMs) / 1000;
  return after.map((a, i) => (a.drawn - (before[i]?.drawn ?? 0)) / seconds);
}

describe('the request budget shared by worker replicas', () => {
  it('holds two workers running eight runs to 20 requests/s, and slows both after a 429 burst', async () => {
    const canary = makeCanary('fixture-secret');
    const source = await startFixtureSource({ items: 100_000, secret: canary });
    const catalog = await startCatalogReceiver();
    const prefix = uniquePrefix('e2e-budget');
    const redis = new Redis(REDIS_URL);
    defer(async () => {
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await source.close();
      await catalog.close();
    });
    const config = e2eConfig({
      redisUrl: REDIS_URL,
      prefix,
      catalogUrl: catalog.url,
      sourceUrl: source.url,
      pageSize: 5,
      runsPerConnection: 8,
      // The shared bucket is the subject here, so runs stay on the agent's own thread. In capped
      // run threads on a CPU-starved host, sends bunch after their grants: see docs/decisions.md.
      queue: { concurrency: 4, shutdownGraceMs: 1_000, isolation: 'none' },
      jobs: Array.from({ length: 8 }, (_, i) => ({ id: `inventory-${i}`, connection: 'fx' })),
    });
    const connections = config['connections'] as Record<string, Record<string, unknown>>;
    connections['fx'] = {
      ...connections['fx'],
      rateLimit: { requestsPerSecond: RATE, burst: BURST },
    };
    const configPath = writeConfig(config);
    const start = async (name: string, role: 'all' | 'worker'): Promise<AgentProcess> => {
      const agent = await spawnAgent({ name, configPath, role, env: { FIXTURE_SECRET: canary } });
      defer(() => stopAgent(agent));
      return agent;
    };
    const agents = await Promise.all([start('first', 'all'), start('second', 'worker')]);
    await Promise.all(agents.map(async (agent) => agent.waitForLog('Run started')));
    const seen = (): number => source.requests().length;
    // Measure once every run draws.
    await waitFor(() => seen() >= 40, { timeoutMs: 30_000, what: 'the runs to reach the source' });

    const steady = await ratesOver(agents, seen, 80);
    // Both replicas draw from one bucket: together they stay at the budget, not twice it.
    expect(steady.every((rate) => rate > 2)).toBe(true);
    expect(steady[0]! + steady[1]!).toBeLessThanOrEqual(RATE + BURST);
    expect(busiestSecond(source.requestTimes())).toBeLessThanOrEqual(RATE + BURST);

    const burstAt = seen();
    source.script(...Array.from({ length: 4 }, () => ({ status: 429, retryAfterSeconds: 2 })));
    await waitFor(() => seen() >= burstAt + 4, { what: 'the 429 burst' });
    const slowed = await ratesOver(agents, seen, 30);
    for (const [i, rate] of slowed.entries()) {
      expect(rate).toBeLessThan(steady[i]! * 0.7);
    }
    // Pause of Retry-After, then half the rate: together well under the budget.
    expect(slowed[0]! + slowed[1]!).toBeLessThanOrEqual(RATE / 2 + 1);
    const after = await Promise.all(agents.map(scrape));
    // Every replica reads the slowed budget from Redis, whichever met the 429s.
    expect(after.map((a) => a.budget)).toEqual([RATE / 2, RATE / 2]);
    expect(after[0]!.limited + after[1]!.limited).toBeGreaterThanOrEqual(4);
    expect(busiestSecond(source.requestTimes())).toBeLessThanOrEqual(RATE + BURST);
  }, 60_000);
});
