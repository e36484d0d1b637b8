import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../agent/cli/cli.ts';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { RunJob } from '../../agent/queue/jobs.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { captureIo } from '../helpers/cli-io.ts';
import { fixtureRegistry } from '../helpers/run-world.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { queueHarness, runSpec, scriptedExecutor, untilAborted } from './support/queue-harness.ts';
import type { QueueHarness } from './support/queue-harness.ts';
import { REDIS_URL, uniquePrefix } from './support/redis.ts';

let harness: QueueHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A harness (the daemon's queue side) and a config file the CLI reads: same Redis, same prefix. */
function setup(
  options: { controlPlane?: boolean; redisUrl?: string; queue?: Record<string, unknown> } = {},
) {
  const prefix = uniquePrefix('runs-cli');
  harness = queueHarness(prefix, options.queue);
  const dir = tempDir('runs-cli');
  writeFileSync(
    join(dir, 'perimeter.yaml'),
    JSON.stringify({
      redis: { url: options.redisUrl ?? REDIS_URL, prefix, connectTimeoutMs: 1_000 },
      policy: { connectors: { fixture: { allowHosts: ['127.0.0.1:*'] } } },
      connections: {
        fx: {
          connector: 'fixture',
          baseUrl: 'http://127.0.0.1:9',
          credentials: { secret: 'env://FIXTURE_SECRET' },
        },
      },
      ...(options.controlPlane === true
        ? { controlPlane: { url: 'https://127.0.0.1:9', agentToken: 'env://AGENT_TOKEN' } }
        : {}),
    }),
  );
  const canary = makeCanary('runs-cli');
  const cli = async (...argv: string[]) => {
    const io = captureIo(
      { FIXTURE_SECRET: canary, AGENT_TOKEN: canary, PERIMETER_CONFIG: 'perimeter.yaml' },
      dir,
    );
    const code = await runCli(argv, io, fixtureRegistry);
    return { code, stdout: io.out.join(''), stderr: io.err.join(''), all: io.text() };
  };
  return { h: harness, cli, canary };
}

describe('perimeter runs and schedules against the queue', () => {
  it('lists a waiting run and shows its checkpoint counts, never its cursor or a secret', async () => {
    const { h, cli, canary } = setup();
    const link = h.node();
    await link.side.target.enqueueRun({ ...runSpec('run-list'), params: { pages: 3 } });
    const job = (await link.side.queue.getJob('run-list')) as Job<RunJob> | undefined;
    const withCheckpoint: RunJob = {
      kind: 'run',
      spec: { ...runSpec('run-list'), params: { pages: 3 } },
      checkpoint: { cursor: { page: `cursor-${canary}` }, nextSeq: 4, assets: 80, bytes: 9_000 },
    };
    await job?.updateData(withCheckpoint);

    const listed = await cli('runs', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^RUN\s+CONNECTOR\s+CONNECTION\s+OPERATION\s+STATE/);
    expect(listed.stdout).toMatch(
      /run-list\s+fixture\s+fx\s+extract\s+waiting\s+0\/5\s+-\s+-\s+80\s+4\s+-/,
    );

    const json = await cli('runs', 'list', '--state', 'waiting', '--json');
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        runId: 'run-list',
        connector: 'fixture',
        connection: 'fx',
        state: 'waiting',
        progress: { assets: 80, batches: 4 },
        queuedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      }),
    ]);
    expect(JSON.parse((await cli('runs', 'list', '--state', 'active', '--json')).stdout)).toEqual(
      [],
    );

    const shown = await cli('runs', 'show', 'run-list');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('checkpoint:');
    expect(shown.stdout).toContain('80 assets in 4 batches (9000 bytes) committed');
    expect(shown.stdout).toMatch(/params:\s+pages/);
    expect(shown.stdout).toContain('events: not kept (standalone mode');
    expect(shown.all).not.toContain('cursor-');
    expect(findCanary(canary, { listed: listed.all, json: json.all, shown: shown.all })).toEqual(
      [],
    );
  });

  it('shows the events the outbox still holds when a control plane is configured', async () => {
    const { h, cli } = setup({ controlPlane: true });
    await h.node().side.target.enqueueRun(runSpec('run-events'));
    const shown = await cli('runs', 'show', 'run-events', '--json');
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout) as { events: { type: string; seq: number }[] };
    expect(detail.events.map((event) => [event.seq, event.type])).toEqual([[0, 'queued']]);
  });

  it('cancels a waiting run by removing it, and an active one by stopping it on its worker', async () => {
    const { h, cli } = setup();
    const link = h.node();
    await link.side.target.enqueueRun(runSpec('run-waiting'));
    const removed = await cli('runs', 'cancel', 'run-waiting');
    expect(removed).toMatchObject({ code: 0, stderr: '' });
    expect(removed.stdout).toContain('run run-waiting cancelled: removed from the queue');
    expect(await link.side.queue.getJob('run-waiting')).toBeUndefined();

    const executor = scriptedExecutor((_spec, options) => untilAborted(options.signal));
    const worker = h.node({ executor });
    await link.side.target.enqueueRun(runSpec('run-active'));
    await waitFor(() => worker.worker?.active().length === 1);
    expect(JSON.parse((await cli('runs', 'list', '--json')).stdout)).toEqual([
      expect.objectContaining({ runId: 'run-active', state: 'active', attempts: 0 }),
    ]);
    const stopped = await cli('runs', 'cancel', 'run-active', '--json');
    expect(stopped.code).toBe(0);
    const outcome = JSON.parse(stopped.stdout) as {
      outcome: string;
      state: string;
      stopMs: number;
    };
    expect(outcome).toMatchObject({ outcome: 'stopped', state: 'cancelled' });
    expect(outcome.stopMs).toBeGreaterThanOrEqual(0);
    expect(worker.worker?.active()).toEqual([]);
    expect(
      JSON.parse((await cli('runs', 'list', '--state', 'cancelled', '--json')).stdout),
    ).toEqual([expect.objectContaining({ runId: 'run-active', errorCode: 'RUN_CANCELLED' })]);
    expect(JSON.parse((await cli('runs', 'list', '--state', 'failed', '--json')).stdout)).toEqual(
      [],
    );

    const again = await cli('runs', 'cancel', 'run-active');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^error RUN_NOT_FOUND: Run run-active already finished \(cancelled\)/,
    );
  });

  it('shows a run waiting out its retry backoff as delayed with its error code, and cancels it by removing it', async () => {
    const { h, cli } = setup({ queue: { backoffMs: 600_000 } });
    const executor = scriptedExecutor(() =>
      Promise.reject(new PerimeterError('SOURCE_UNAVAILABLE', '503 from GET /v1/items')),
    );
    const worker = h.node({ executor });
    await worker.side.target.enqueueRun(runSpec('run-retry'));
    await waitFor(async () => (await worker.side.queue.getJob('run-retry'))?.attemptsMade === 1);
    const listed = await cli('runs', 'list', '--state', 'delayed', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        runId: 'run-retry',
        state: 'delayed',
        attempts: 1,
        errorCode: 'SOURCE_UNAVAILABLE',
      }),
    ]);
    const shown = await cli('runs', 'show', 'run-retry');
    expect(shown.stdout).toMatch(/last error:\s+SOURCE_UNAVAILABLE: 503 from GET \/v1\/items/);
    expect(shown.stdout).toMatch(/due:\s+\d{4}-/);
    const cancelled = await cli('runs', 'cancel', 'run-retry');
    expect(cancelled.stdout).toContain('run run-retry cancelled: removed from the queue');
    expect(await worker.side.queue.getJob('run-retry')).toBeUndefined();
    expect(executor.calls).toHaveLength(1);
  });

  it('describes each command with an example in --help', async () => {
    const { cli } = setup();
    const help = (await cli('--help')).stdout;
    for (const usage of [
      'perimeter runs list',
      'perimeter runs show RUN_ID',
      'perimeter runs cancel RUN_ID',
      'perimeter schedules list',
      'perimeter schedules remove SCHEDULE_ID',
    ]) {
      const entry = help.slice(help.indexOf(usage)).split('\n  perimeter ')[0] ?? '';
      expect(entry, usage).toMatch(/e\.g\. perimeter (runs|schedules) /);
    }
  });

  it('exits 1 for an unknown run and 2 for bad input, touching nothing', async () => {
    const { cli } = setup();
    const unknown = await cli('runs', 'show', 'no-such-run');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error RUN_NOT_FOUND: No run no-such-run is in the queue');
    expect((await cli('runs', 'cancel', 'no-such-run')).code).toBe(1);
    for (const argv of [
      ['runs'],
      ['runs', 'stop', 'x'],
      ['runs', 'show'],
      ['runs', 'cancel', 'a:b'],
      ['runs', 'list', '--state', 'sleeping'],
      ['schedules', 'remove'],
    ]) {
      const result = await cli(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toMatch(/^error ARGUMENT_INVALID: .*Usage: perimeter /);
    }
  });

  it('lists schedules with their recurrence, next tick and run template, and removes one', async () => {
    const { h, cli } = setup();
    const link = h.node();
    await link.side.target.upsertSchedule({
      scheduleId: 'local.nightly',
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      run: { operation: 'extract', connectionId: 'fx', params: {}, origin: 'local' },
    });
    await link.side.target.upsertSchedule({
      scheduleId: 'hourly',
      everySeconds: 3_600,
      run: { operation: 'discover', connectionId: 'fx', params: {}, origin: 'controlPlane' },
    });
    const listed = await cli('schedules', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /local\.nightly\s+0 3 \* \* \*\s+Europe\/Paris\s+\d{4}-\S+\s+fixture\s+fx\s+extract\s+local/,
    );
    expect(listed.stdout).toMatch(/hourly\s+every 3600s\s+-\s+\d{4}-\S+\s+fixture\s+fx\s+discover/);
    const json = JSON.parse((await cli('schedules', 'list', '--json')).stdout) as {
      scheduleId: string;
      nextAt: string;
    }[];
    expect(json.map((s) => s.scheduleId).sort()).toEqual(['hourly', 'local.nightly']);
    expect(json.every((s) => Date.parse(s.nextAt) > Date.now() - 60_000)).toBe(true);

    const removed = await cli('schedules', 'remove', 'hourly');
    expect(removed).toMatchObject({ code: 0, stdout: 'schedule hourly removed\n' });
    expect((await cli('schedules', 'remove', 'hourly')).code).toBe(1);
    expect(await link.side.queue.getJobSchedulers()).toHaveLength(1);
  });

  it('fails at once with REDIS_UNAVAILABLE naming redis.url when Redis cannot be reached', async () => {
    const port = await closedPort();
    const { cli } = setup({ redisUrl: `redis://127.0.0.1:${port}` });
    const started = Date.now();
    const result = await cli('runs', 'list');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error REDIS_UNAVAILABLE: Redis \\(redis 127\\.0\\.0\\.1:${port} db 0\\) cannot be reached: ECONNREFUSED\\. Check redis\\.url`,
      ),
    );
    // Refused at once, not after the clients' reconnect backoff.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return typeof address === 'object' && address !== null ? address.port : 0;
}
