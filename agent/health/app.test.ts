import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LinkStatus } from '../link/types.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { PerimeterError, systemClock } from '../plugin-api/index.ts';
import type { Clock } from '../plugin-api/index.ts';
import type { RedisHealth } from '../queue/redis.ts';
import { buildHealthApp } from './app.ts';
import type { HealthState } from './app.ts';
import { HealthBoard } from './board.ts';
import { CachedProbe } from './probe.ts';
import { RecentErrors } from './recent-errors.ts';

const boards: HealthBoard[] = [];

afterEach(() => {
  vi.useRealTimers();
  boards.splice(0).forEach((board) => {
    board.close();
  });
});

/** The board's clock: the real one, held still so elapsed times are exact. */
const NOW_MS = Date.now();
const heldNow: Clock = { ...systemClock, now: () => NOW_MS };

function setup(state: { current: HealthState }) {
  const errors = new RecentErrors(2);
  const metrics = createMetrics();
  const board = new HealthBoard({
    identity: {
      version: '1.2.3',
      agentId: 'agent-a',
      roles: ['link', 'worker'],
      startedAt: new Date(NOW_MS - 5_000),
      secretStores: [{ profile: 'vault-prod', scheme: 'vault' }],
      connectors: [{ name: 'cyera', version: '1.0.0' }],
    },
    metrics,
    state: () => state.current,
    errors,
    clock: heldNow,
  });
  boards.push(board);
  return { board, errors, metrics, app: buildHealthApp(board.deps()) };
}

const ready: RedisHealth = { ready: true, clients: { main: 'ready', events: 'ready' } };
const reconnecting: RedisHealth = {
  ready: false,
  clients: { main: 'ready', events: 'reconnecting' },
};

describe('health server', () => {
  it('answers /livez whatever the state and dependencies', async () => {
    const { app, board } = setup({ current: 'starting' });
    board.attach({ redis: () => reconnecting });
    const response = await app.inject({ method: 'GET', url: '/livez' });
    expect(response.statusCode).toBe(200);
  });

  it('is not ready while starting, ready while running with Redis up, and not ready once draining', async () => {
    const state: { current: HealthState } = { current: 'starting' };
    const { app, board } = setup(state);
    board.attach({ redis: () => ready });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    state.current = 'running';
    const running = await app.inject({ url: '/readyz' });
    expect(running.statusCode).toBe(200);
    expect(running.json()).toMatchObject({
      ready: true,
      state: 'running',
      dependencies: { redis: { ok: true, detail: 'ready' } },
    });
    state.current = 'draining';
    expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({
      ready: false,
      state: 'draining',
    });
  });

  it('is not ready while Redis reconnects, and names the client state', async () => {
    const { app, board } = setup({ current: 'running' });
    board.attach({ redis: () => reconnecting });
    const response = await app.inject({ url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      dependencies: { redis: { ok: false, detail: 'reconnecting', required: true } },
    });
  });

  it('reports a failing catalog probe and a stale link by code without failing readiness', async () => {
    const { app, board } = setup({ current: 'running' });
    const catalog = new CachedProbe(
      'catalog',
      () =>
        Promise.reject(new PerimeterError('SINK_UNAVAILABLE', 'connect ECONNREFUSED 10.0.0.7:443')),
      { intervalMs: 1_000 },
    );
    await catalog.check(new AbortController().signal);
    const link: LinkStatus = {
      fresh: false,
      lastPollOkAt: undefined,
      lastHeartbeatOkAt: undefined,
      consecutiveErrors: 3,
      lastErrorCode: 'CONTROL_PLANE_UNAVAILABLE',
      instructionsAccepted: 0,
      instructionsRefused: 0,
    };
    board.attach({ redis: () => ready, probes: [catalog], link: () => link });
    const response = await app.inject({ url: '/readyz' });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ dependencies: Record<string, { ok: boolean; detail: string }> }>();
    expect(body.dependencies['catalog']).toMatchObject({
      ok: false,
      detail: 'SINK_UNAVAILABLE',
      required: false,
    });
    expect(body.dependencies['controlPlane']).toMatchObject({
      ok: false,
      detail: 'CONTROL_PLANE_UNAVAILABLE',
    });
    expect(response.body).not.toContain('10.0.0.7');
  });

  it('serves Prometheus text with the event-loop lag and the run metrics', async () => {
    const { app, metrics } = setup({ current: 'running' });
    metrics.activeRuns.set(2);
    const response = await app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toContain('perimeter_event_loop_lag_seconds');
    expect(response.body).toMatch(/perimeter_active_runs 2/);
  });

  it('shows operators who it is, its runs and its last errors by code, newest first and capped', async () => {
    const { app, board, errors } = setup({ current: 'running' });
    errors.add('SOURCE_UNAVAILABLE', 'run-1');
    errors.add('SINK_REJECTED', 'run-2');
    errors.add('SOURCE_AUTH_FAILED', 'run-3');
    board.attach({
      redis: () => ready,
      activeRuns: () => [
        {
          runId: 'run-9',
          jobId: 'run-9',
          connector: 'cyera',
          operation: 'extract',
          attempt: 2,
          startedAt: NOW_MS - 1_500,
        },
      ],
    });
    const body = (await app.inject({ url: '/status' })).json<Record<string, unknown>>();
    expect(body).toMatchObject({
      version: '1.2.3',
      agentId: 'agent-a',
      roles: ['link', 'worker'],
      state: 'running',
    });
    expect(body['secretStores']).toEqual([{ profile: 'vault-prod', scheme: 'vault' }]);
    expect(body['recentErrors']).toMatchObject([
      { code: 'SOURCE_AUTH_FAILED', runId: 'run-3' },
      { code: 'SINK_REJECTED' },
    ]);
    const [run] = body['activeRuns'] as { runId: string; elapsedMs: number }[];
    expect(run?.runId).toBe('run-9');
    expect(run?.elapsedMs).toBe(1_500);
  });

  it('answers /status and heartbeats without event figures when Redis does not answer within 2 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { board } = setup({ current: 'running' });
    let reads = 0;
    board.attach({
      redis: () => reconnecting,
      outbox: {
        append: () => Promise.resolve(),
        read: () => Promise.resolve([]),
        ack: () => Promise.resolve(),
        // A Redis command waiting across a reconnect: it never settles.
        pending: () => {
          reads += 1;
          return new Promise<number>(() => undefined);
        },
      },
    });
    let answered: Record<string, unknown> | undefined;
    const status = board
      .deps()
      .status()
      .then((body) => (answered = body));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(answered).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await status;
    expect(answered?.['pendingEvents']).toBeNull();
    const heartbeat = board.heartbeat();
    await vi.advanceTimersByTimeAsync(2_000);
    expect((await heartbeat).pendingEvents).toBe(0);
    expect(reads).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('builds the heartbeat from the same view', async () => {
    const { board } = setup({ current: 'running' });
    board.attach({ redis: () => reconnecting });
    const heartbeat = await board.heartbeat();
    expect(heartbeat).toMatchObject({
      agentId: 'agent-a',
      connectors: [{ name: 'cyera', version: '1.0.0' }],
      health: { status: 'degraded', dependencies: { redis: 'reconnecting' } },
      pendingEvents: 0,
    });
  });

  it('shows the outbound ledger head in /status and in the heartbeat', async () => {
    const { app, board } = setup({ current: 'running' });
    const hash = 'ab'.repeat(32);
    board.attach({ ledgerHead: () => Promise.resolve({ seq: 42, hash }) });
    const body = (await app.inject({ url: '/status' })).json<Record<string, unknown>>();
    expect(body['ledger']).toEqual({ seq: 42, hash });
    expect((await board.heartbeat()).ledgerHead).toBe(`42:${hash}`);
  });
});
