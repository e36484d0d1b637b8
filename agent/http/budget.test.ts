import { describe, expect, it } from 'vitest';
import { closedAfterEach, rejectionOf, sendJson } from '../../test/helpers/loopback.ts';
import type { Handler } from '../../test/helpers/loopback.ts';
import { heldClock, instantClock } from '../../test/helpers/test-clock.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import { createMetrics } from '../metrics/metrics.ts';
import type { Clock } from '../plugin-api/index.ts';
import { SLOWDOWN_MS, createLocalBudgetStore, createRequestBudget, sourceOf } from './budget.ts';
import type { BudgetStore } from './budget.ts';

const { server, client } = closedAfterEach();

/** A clock whose time moves only when the test says so. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  return {
    now: () => now,
    schedule: () => () => undefined,
    advance: (ms) => {
      now += ms;
    },
  };
}

const limit = { requestsPerSecond: 2, burst: 3 };

async function waits(store: BudgetStore, count: number): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i += 1) {
    result.push((await store.reserve('fixture http://a', limit)).waitMs);
  }
  return result;
}

describe('the in-process budget store', () => {
  it('lets a burst through, then spaces requests at the rate', async () => {
    const clock = manualClock();
    const store = createLocalBudgetStore(clock);
    expect(await waits(store, 5)).toEqual([0, 0, 0, 500, 1000]);
    clock.advance(2_000);
    // Four tokens earned: two pay back the debt, two let requests go at once.
    expect(await waits(store, 3)).toEqual([0, 0, 500]);
  });

  it('gives back the token of a request that went unsent when it reserves again', async () => {
    const store = createLocalBudgetStore(manualClock());
    expect(await waits(store, 5)).toEqual([0, 0, 0, 500, 1000]);
    // The last one woke too late: asking again gives its token back, so it waits no longer.
    expect((await store.reserve('fixture http://a', limit, true)).waitMs).toBe(1000);
    expect((await store.reserve('fixture http://a', limit)).waitMs).toBe(1500);
  });

  it('keeps sources apart', async () => {
    const store = createLocalBudgetStore(manualClock());
    await waits(store, 3);
    expect((await store.reserve('fixture http://b', limit)).waitMs).toBe(0);
  });

  it('pauses for Retry-After after a 429, then runs at half the rate until the slowdown ends', async () => {
    const clock = manualClock();
    const store = createLocalBudgetStore(clock);
    await store.shrink('fixture http://a', limit, 4_000);
    const first = await store.reserve('fixture http://a', limit);
    expect(first.waitMs).toBeGreaterThanOrEqual(4_000);
    expect(first.requestsPerSecond).toBe(1);
    clock.advance(first.waitMs);
    expect((await store.reserve('fixture http://a', limit)).waitMs).toBe(1_000);
    clock.advance(4_000 + SLOWDOWN_MS);
    const after = await store.reserve('fixture http://a', limit);
    expect(after).toEqual({ waitMs: 0, requestsPerSecond: 2 });
  });
});

/** A clock whose waits end on the next turn, moving time by their length plus `lateMs` for the first. */
function lateClock(lateMs: number): Clock {
  let now = 1_000_000;
  let late = lateMs;
  return {
    now: () => now,
    schedule: (callback, delayMs) => {
      const immediate = setImmediate(() => {
        now += delayMs + late;
        late = 0;
        callback();
      });
      return () => {
        clearImmediate(immediate);
      };
    },
  };
}

describe('a run drawing from its budget', () => {
  it('takes a new token when its wait ended too late to use the one it reserved', async () => {
    const clock = lateClock(600);
    const store = createLocalBudgetStore(clock);
    const reserved: number[] = [];
    const budget = createRequestBudget({
      store: {
        reserve: async (source, l) => {
          const reservation = await store.reserve(source, l);
          reserved.push(reservation.waitMs);
          return reservation;
        },
        shrink: (source, l, ms) => store.shrink(source, l, ms),
      },
      connector: 'fixture',
      limit: { requestsPerSecond: 2, burst: 1 },
      clock,
    });
    const url = new URL('http://a');
    await budget.take(url, AbortSignal.timeout(10_000));
    // Due after 500 ms, woken 600 ms past it (over 90 % of a token's 500 ms): a second token.
    await budget.take(url, AbortSignal.timeout(10_000));
    expect(reserved).toEqual([0, 500, 0]);
    await budget.take(url, AbortSignal.timeout(10_000));
    expect(reserved).toHaveLength(4);
  });
});

/** Answers 200, or the statuses given in turn. */
function answers(...statuses: [status: number, headers?: Record<string, string>][]): Handler {
  let index = 0;
  return (_request, response) => {
    const [status, headers = {}] = statuses[index] ?? [200];
    index += 1;
    sendJson(response.setHeaders(new Map(Object.entries(headers))), status, {});
  };
}

describe('the source HTTP client with a budget', () => {
  it('waits for the budget before each request and each retry, and counts the waits per host', async () => {
    const target = await server(answers([429, { 'retry-after': '0' }]));
    const clock = instantClock();
    const metrics = createMetrics();
    const store = createLocalBudgetStore();
    const reserved: string[] = [];
    const counting: BudgetStore = {
      reserve: (source, l) => {
        reserved.push(source);
        return store.reserve(source, l);
      },
      shrink: (source, l, ms) => store.shrink(source, l, ms),
    };
    const budget = createRequestBudget({
      store: counting,
      connector: 'fixture',
      limit: { requestsPerSecond: 1, burst: 1 },
      metrics,
      clock,
    });
    const built = client({ allowedHosts: [target.hostPattern] }, { clock, metrics, budget });
    const response = await built.client.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: AbortSignal.timeout(10_000),
    });
    await response.dump();
    expect(target.requests).toHaveLength(2);
    expect(reserved).toEqual([
      sourceOf('fixture', new URL(target.origin)),
      sourceOf('fixture', new URL(target.origin)),
    ]);
    // The 429 paused the bucket; the retry waited for it (not only for its own backoff).
    const host = new URL(target.origin).host;
    const limited = await metrics.sourceRateLimitedTotal.get();
    expect(limited.values).toEqual([
      expect.objectContaining({ labels: { connector: 'fixture', source: host }, value: 1 }),
    ]);
    const waited = await metrics.sourceBudgetWaitsTotal.get();
    expect(waited.values[0]?.value).toBe(1);
    const drawn = await metrics.sourceBudgetWaitMs.get();
    expect(drawn.values.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(2);
    expect(clock.delaysMs.some((ms) => ms >= 1_000)).toBe(true);
    const rate = await metrics.sourceBudgetRequestsPerSecond.get();
    expect(rate.values[0]?.value).toBe(0.5);
  });

  it('gives up waiting for the budget when the request is aborted, without sending it', async () => {
    const target = await server(answers());
    const clock = heldClock();
    const budget = createRequestBudget({
      store: createLocalBudgetStore(),
      connector: 'fixture',
      limit: { requestsPerSecond: 0.01, burst: 1 },
      clock,
    });
    const built = client({ allowedHosts: [target.hostPattern] }, { clock, budget });
    const url = `${target.origin}/x`;
    const first = await built.client.request({
      method: 'GET',
      url,
      signal: AbortSignal.timeout(10_000),
    });
    await first.dump();
    const controller = new AbortController();
    const second = built.client.request({ method: 'GET', url, signal: controller.signal });
    await waitFor(() => clock.pending === 1, { what: 'the budget wait' });
    controller.abort();
    const error = await rejectionOf(second);
    expect(error).toMatchObject({ code: 'RUN_ABORTED' });
    expect(clock.pending).toBe(0);
    expect(target.requests).toHaveLength(1);
  });
});
