import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Backoff,
  MAX_RETRY_AFTER_FLOOR_MS,
  backoffDelayMs,
  runAtMost,
  sleep,
  streamAtMost,
  waitAtMost,
} from './timing.ts';

describe('backoffDelayMs', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };

  it('draws uniformly below a ceiling that doubles per attempt up to the cap', () => {
    expect(backoffDelayMs(policy, 1, {}, () => 0.999)).toBe(99);
    expect(backoffDelayMs(policy, 3, {}, () => 0.5)).toBe(200);
    expect(backoffDelayMs(policy, 30, {}, () => 0.5)).toBe(500);
    expect(backoffDelayMs(policy, 2, {}, () => 0)).toBe(0);
  });

  it('takes Retry-After and any other floor as lower bounds, with Retry-After capped', () => {
    expect(backoffDelayMs(policy, 1, { retryAfterMs: 5_000 }, () => 0.5)).toBe(5_000);
    expect(backoffDelayMs(policy, 1, { floorMs: 700 }, () => 0.1)).toBe(700);
    expect(
      backoffDelayMs(policy, 1, { retryAfterMs: 10 * MAX_RETRY_AFTER_FLOOR_MS }, () => 0),
    ).toBe(MAX_RETRY_AFTER_FLOOR_MS);
  });

  it('spreads clients that fail together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(policy, 4)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('Backoff', () => {
  it('counts consecutive failures and starts over after a success', () => {
    const backoff = new Backoff({ baseMs: 10, maxMs: 10_000 }, () => 0.999);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([9, 19, 39]);
    expect(backoff.failures).toBe(3);
    backoff.reset();
    expect(backoff.next()).toBe(9);
  });
});

describe('sleep and waitAtMost', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sleeps exactly as long as asked under the clock in force', async () => {
    let done = false;
    const slept = sleep(1_000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await slept;
    expect(done).toBe(true);
  });

  it('ends a sleep with the abort reason and leaves no timer behind', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, { signal: controller.signal });
    controller.abort(new Error('shutdown'));
    await expect(slept).rejects.toThrow('shutdown');
    expect(vi.getTimerCount()).toBe(0);
    await expect(sleep(1, { signal: controller.signal })).rejects.toThrow('shutdown');
  });

  it('gives the value when it comes in time, and says so when it does not', async () => {
    await expect(waitAtMost(Promise.resolve(7), 100)).resolves.toEqual({
      timedOut: false,
      value: 7,
    });
    expect(vi.getTimerCount()).toBe(0);
    const never = new Promise<number>(() => undefined);
    const waited = waitAtMost(never, 100);
    await vi.advanceTimersByTimeAsync(100);
    await expect(waited).resolves.toEqual({ timedOut: true });
  });

  it('passes a rejection through and drops one that comes too late', async () => {
    await expect(waitAtMost(Promise.reject(new Error('boom')), 100)).rejects.toThrow('boom');
    let fail = (_: Error): void => undefined;
    const late = new Promise<number>((_, reject) => {
      fail = reject;
    });
    const waited = waitAtMost(late, 50);
    await vi.advanceTimersByTimeAsync(50);
    await expect(waited).resolves.toEqual({ timedOut: true });
    fail(new Error('late'));
    await vi.advanceTimersByTimeAsync(1);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const waited = waitAtMost(new Promise<number>(() => undefined), 10_000, {
      signal: controller.signal,
    });
    controller.abort(new Error('cancelled'));
    await expect(waited).rejects.toThrow('cancelled');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('uses an injected clock instead of the timers', async () => {
    const scheduled: { callback: () => void; delayMs: number }[] = [];
    const clock = {
      now: () => 0,
      schedule: (callback: () => void, delayMs: number) => {
        scheduled.push({ callback, delayMs });
        return () => undefined;
      },
    };
    const slept = sleep(5_000, { clock });
    expect(scheduled.map((entry) => entry.delayMs)).toEqual([5_000]);
    scheduled[0]!.callback();
    await expect(slept).resolves.toBeUndefined();
  });
});

describe('runAtMost', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives the work its value when it finishes in time', async () => {
    const outcome = runAtMost((signal) => sleep(1_000, { signal }).then(() => 'read'), 2_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(outcome).resolves.toEqual({ timedOut: false, value: 'read' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('times out a slow object and aborts its work, so its requests stop too', async () => {
    let workSignal: AbortSignal | undefined;
    const outcome = runAtMost((signal) => {
      workSignal = signal;
      return sleep(60_000, { signal });
    }, 2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(outcome).resolves.toEqual({ timedOut: true });
    expect(workSignal?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the run's abort reason, and with the work's own error", async () => {
    const run = new AbortController();
    const aborted = runAtMost((signal) => sleep(60_000, { signal }), 2_000, {
      signal: run.signal,
    });
    run.abort(new Error('cancelled'));
    await expect(aborted).rejects.toThrow('cancelled');
    await expect(runAtMost(() => Promise.reject(new Error('bad')), 2_000)).rejects.toThrow('bad');
  });
});

describe('streamAtMost', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Items at 1 s intervals of the source's time, each read under the given signal. */
  async function* slowItems(signal: AbortSignal, count: number): AsyncGenerator<number> {
    for (let item = 1; item <= count; item += 1) {
      await sleep(1_000, { signal });
      yield item;
    }
  }

  /** Drains the stream, holding each item `holdMs` (the caller's time: a catalog push). */
  async function drain(
    stream: AsyncGenerator<number, { readonly timedOut: boolean }>,
    holdMs: number,
  ): Promise<{ items: number[]; timedOut: boolean }> {
    const items: number[] = [];
    for (;;) {
      const next = await stream.next();
      if (next.done === true) {
        return { items, timedOut: next.value.timedOut };
      }
      items.push(next.value);
      await sleep(holdMs);
    }
  }

  it('hands each item on as it is read, and counts only the source time against the limit', async () => {
    // 5 items of 1 s each within 5.5 s, although the caller holds each for 10 s.
    const done = drain(
      streamAtMost((signal) => slowItems(signal, 5), 5_500),
      10_000,
    );
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(done).resolves.toEqual({ items: [1, 2, 3, 4, 5], timedOut: false });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops a slow object when its source time runs out, aborting the read in flight', async () => {
    let itemsSignal: AbortSignal | undefined;
    const done = drain(
      streamAtMost((signal) => {
        itemsSignal = signal;
        return slowItems(signal, 100);
      }, 3_500),
      0,
    );
    await vi.advanceTimersByTimeAsync(4_000);
    await expect(done).resolves.toEqual({ items: [1, 2, 3], timedOut: true });
    expect(itemsSignal?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the run's abort reason and with the items' own error", async () => {
    const run = new AbortController();
    const aborted = drain(
      streamAtMost((signal) => slowItems(signal, 100), 60_000, { signal: run.signal }),
      0,
    );
    await vi.advanceTimersByTimeAsync(2_500);
    run.abort(new Error('cancelled'));
    await expect(aborted).rejects.toThrow('cancelled');
    // eslint-disable-next-line require-yield
    async function* failing(): AsyncGenerator<number> {
      await Promise.resolve();
      throw new Error('bad page');
    }
    await expect(
      drain(
        streamAtMost(() => failing(), 60_000),
        0,
      ),
    ).rejects.toThrow('bad page');
  });

  it('closes the items when the caller stops early, so their cleanup runs', async () => {
    let closed = false;
    async function* items(): AsyncGenerator<number> {
      try {
        yield await Promise.resolve(1);
        yield 2;
      } finally {
        closed = true;
      }
    }
    for await (const item of streamAtMost(() => items(), 60_000)) {
      expect(item).toBe(1);
      break;
    }
    expect(closed).toBe(true);
  });
});
