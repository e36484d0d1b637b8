import { describe, expect, it } from 'vitest';
import { Backoff, MAX_RETRY_AFTER_MS } from './backoff.ts';

const settings = { baseMs: 100, maxMs: 1000 };

describe('Backoff', () => {
  it('doubles its ceiling with each failure up to maxMs', () => {
    const top = new Backoff(settings, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('draws each wait uniformly between 0 and the ceiling (full jitter)', () => {
    const bottom = new Backoff(settings, () => 0);
    expect(bottom.next()).toBe(0);
    const middle = new Backoff(settings, () => 0.5);
    expect([middle.next(), middle.next(), middle.next()]).toEqual([50, 100, 200]);
  });

  it('starts again from baseMs after a reset', () => {
    const backoff = new Backoff(settings, () => 0.999999);
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(99);
  });

  it('waits at least the Retry-After, but never more than 15 minutes for it', () => {
    const backoff = new Backoff(settings, () => 0.1);
    expect(backoff.next({ retryAfterMs: 5000 })).toBe(5000);
    expect(backoff.next({ retryAfterMs: 86_400_000 })).toBe(MAX_RETRY_AFTER_MS);
  });

  it('waits half to all of maxMs after the token was refused', () => {
    expect(new Backoff(settings, () => 0).next({ slow: true })).toBe(500);
    expect(new Backoff(settings, () => 0.999999).next({ slow: true })).toBe(999);
  });

  it('spreads the reconnects of 100 agents that failed together', () => {
    const waits = Array.from({ length: 100 }, () => {
      const backoff = new Backoff(settings);
      backoff.next();
      backoff.next();
      backoff.next();
      return backoff.next();
    });
    const distinct = new Set(waits.map((ms) => Math.floor(ms / 50)));
    expect(Math.max(...waits)).toBeLessThan(800);
    // 100 draws over 16 buckets of 50 ms: lockstep would fill one.
    expect(distinct.size).toBeGreaterThanOrEqual(10);
  });
});
