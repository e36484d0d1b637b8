import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { startChild } from '../helpers/child.ts';
import type { ChildResult } from '../helpers/child.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import { e2eConfig, inspectQueue } from './support/config.ts';

const AGENT = fileURLToPath(new URL('../helpers/fixture-agent.ts', import.meta.url));
const defer = deferredCleanup();

describe('perimeter runs and schedules beside a standalone agent', () => {
  it('lists a running run as active, cancels it on the agent within moments, and lists the schedules', async (context) => {
    const canary = makeCanary('runs-e2e');
    // 100 pages of 20 items, 200 ms each: the run is active for ~20 s unless cancelled.
    const source = await startFixtureSource({ items: 2_000, secret: canary });
    source.always({ status: 200, delayMs: 200 });
    const catalog = await startCatalogReceiver();
    const prefix = uniquePrefix('e2e-runs-cli');
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
        jobs: [
          { id: 'inventory', connection: 'fx' },
          { id: 'nightly', connection: 'fx', schedule: { cron: '0 3 * * *', timezone: 'UTC' } },
        ],
      }),
    );
    const agent = await spawnAgent({ name: 'agent', configPath, env: { FIXTURE_SECRET: canary } });
    defer(() => stopAgent(agent));
    const runId = String((await agent.waitForLog('Run started'))['runId']);
    // The operator's shell: the same config file, no access to the connection's secret.
    const perimeter = (...argv: string[]): Promise<ChildResult> =>
      startChild(AGENT, [...argv, '--config', configPath], {
        cwd: dirname(configPath),
        env: {},
      }).exited;

    const active = await perimeter('runs', 'list', '--state', 'active', '--json');
    expect(active.code, active.stderr).toBe(0);
    expect(JSON.parse(active.stdout)).toEqual([
      expect.objectContaining({
        runId,
        connector: 'fixture',
        connection: 'fx',
        operation: 'extract',
        state: 'active',
        startedAt: expect.stringMatching(/^\d{4}-/) as unknown,
      }),
    ]);

    const spawnedAt = Date.now();
    const cancel = await perimeter('runs', 'cancel', runId, '--json');
    const returnedAt = Date.now();
    expect(cancel.code, cancel.stderr).toBe(0);
    const outcome = JSON.parse(cancel.stdout) as {
      outcome: string;
      state: string;
      requestedAt: string;
      stopMs: number;
    };
    expect(outcome).toMatchObject({ outcome: 'stopped', state: 'cancelled' });
    // Order: the request, then the worker's stop, then the run's cancelled state in Redis, all
    // before the command returned.
    const inspect = inspectQueue(REDIS_URL, prefix);
    const job = await inspect.queue.getJob(runId);
    const state = await job?.getState();
    await inspect.close();
    expect(state).toBe('failed');
    expect(job?.failedReason).toMatch(/^RUN_CANCELLED: /);
    const requestedAt = Date.parse(outcome.requestedAt);
    const stoppedLog = await agent.waitForLog('Run cancelled; stopping it', { runId });
    const stoppedAt = Date.parse(String(stoppedLog['time']));
    expect(stoppedAt).toBeGreaterThanOrEqual(requestedAt - 50);
    expect(job?.finishedOn).toBeGreaterThanOrEqual(stoppedAt - 50);
    expect(job?.finishedOn).toBeLessThanOrEqual(returnedAt);
    expect(outcome.stopMs).toBe((job?.finishedOn ?? 0) - requestedAt);
    await context.annotate(
      `cancel latency (request → run cancelled in Redis): ${outcome.stopMs} ms; the command's wall time, Node start included: ${returnedAt - spawnedAt} ms`,
    );
    expect(catalog.completes).toEqual([]);

    const listed = await perimeter('runs', 'list');
    expect(listed.stdout).toMatch(
      new RegExp(
        `${runId.replace('.', '\\.')}\\s+fixture\\s+fx\\s+extract\\s+cancelled\\s+.*RUN_CANCELLED`,
      ),
    );
    const schedules = await perimeter('schedules', 'list', '--json');
    expect(schedules.code, schedules.stderr).toBe(0);
    expect(JSON.parse(schedules.stdout)).toEqual([
      expect.objectContaining({
        scheduleId: 'local.nightly',
        cron: '0 3 * * *',
        timezone: 'UTC',
        connector: 'fixture',
        connection: 'fx',
        operation: 'extract',
        origin: 'local',
        nextAt: expect.stringMatching(/T03:00:00\.000Z$/) as unknown,
      }),
    ]);

    const unknown = await perimeter('runs', 'cancel', 'inventory.nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error RUN_NOT_FOUND');
    const bad = await perimeter('runs', 'cancel', 'not:a:run');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error ARGUMENT_INVALID');

    agent.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    const outputs = [active, cancel, listed, schedules, unknown, bad];
    expect(
      findCanary(canary, {
        cli: outputs.map((result) => result.stdout + result.stderr).join(''),
        agent: agent.output(),
      }),
    ).toEqual([]);
  });
});
