import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('lets a burst of its capacity through at once, then refills at its rate', async () => {
    const clock = { ms: 0 };
    const bucket = new TokenBucket(3, () => clock.ms);
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i += 1) {
      await bucket.take(signal);
    }
    clock.ms = 1000;
    const started = performance.now();
    for (let i = 0; i < 3; i += 1) {
      await bucket.take(signal);
    }
    expect(performance.now() - started).toBeLessThan(50);
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
    const started = performance.now();
    await bucket.take(signal);
    const waitedMs = performance.now() - started;
    // One token at 10 per second: about 100 ms, not 200 ms (the aborted reservation was returned).
    expect(waitedMs).toBeGreaterThanOrEqual(90);
    expect(waitedMs).toBeLessThan(190);
  });
});
