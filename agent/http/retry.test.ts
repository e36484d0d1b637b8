import { describe, expect, it } from 'vitest';
import { backoffDelayMs, parseRetryAfterMs, planRetry, waitOrAbort } from './retry.ts';
import { HttpRetrySettingsSchema } from './settings.ts';

const settings = HttpRetrySettingsSchema.parse({
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  maxRetryAfterMs: 10_000,
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delta seconds', () => {
    expect(parseRetryAfterMs('3', now)).toBe(3_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date relative to now, and a past date as 0', () => {
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores an absent or malformed value', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs('', now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs('-5', now)).toBeUndefined();
  });
});

describe('backoffDelayMs', () => {
  it('draws between 0 and the doubled base, capped by maxDelayMs', () => {
    expect(backoffDelayMs(1, settings, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, settings, () => 0.999)).toBe(399);
    expect(backoffDelayMs(10, settings, () => 0.999)).toBe(999);
    expect(backoffDelayMs(10, settings, () => 0)).toBe(0);
  });
});

describe('planRetry', () => {
  it('waits at least the Retry-After the server asked for', () => {
    const plan = planRetry(1, 2_000, settings);
    expect(plan).toEqual({ retry: true, delayMs: 2_000 });
  });

  it('stops at once when Retry-After exceeds maxRetryAfterMs, keeping the delay', () => {
    expect(planRetry(1, 60_000, settings)).toEqual({ retry: false, retryAfterMs: 60_000 });
  });

  it('stops after maxAttempts', () => {
    expect(planRetry(5, undefined, settings)).toEqual({ retry: false, retryAfterMs: undefined });
    expect(planRetry(4, undefined, settings).retry).toBe(true);
  });
});

describe('waitOrAbort', () => {
  it('ends as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => {
      controller.abort();
    }, 20);
    await expect(waitOrAbort(10_000, controller.signal)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(200);
  });
});
