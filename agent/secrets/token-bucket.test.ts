import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

/** Whether `promise` has settled once the timers due now have run. */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.advanceTimersByTimeAsync(0);
  return settled;
}

describe('TokenBucket', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a burst of its capacity through at once, then refills at its rate', async () => {
    const clock = { ms: 0 };
    const bucket = new TokenBucket(3, () => clock.ms);
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i += 1) {
      expect(await settledNow(bucket.take(signal))).toBe(true);
    }
    expect(await settledNow(bucket.take(signal))).toBe(false);
    clock.ms = 1000;
    // The waiter above holds one of the three refilled tokens.
    for (let i = 0; i < 2; i += 1) {
      expect(await settledNow(bucket.take(signal))).toBe(true);
    }
  });

  it('makes a caller past the budget wait, and an aborted wait gives its token back', async () => {
    const clock = { ms: 0 };
    const bucket = new TokenBucket(10, () => clock.ms);
    const signal = new AbortController().signal;
    for (let i = 0; i < 10; i += 1) {
      await bucket.take(signal);
    }
    const controller = new AbortController();
    const reason = new Error('stop');
    const waiting = bucket.take(controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    // One token at 10 per second: 100 ms, not 200 ms (the aborted reservation was returned).
    const next = bucket.take(signal);
    await vi.advanceTimersByTimeAsync(99);
    expect(await settledNow(next)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settledNow(next)).toBe(true);
  });
});
