import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs, planRetry } from './retry.ts';
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

describe('planRetry', () => {
  it('draws each wait between 0 and the doubled base, capped by maxDelayMs (full jitter)', () => {
    const top = (): number => 0.999;
    expect(planRetry(1, undefined, settings, top)).toEqual({ retry: true, delayMs: 99 });
    expect(planRetry(3, undefined, settings, top)).toEqual({ retry: true, delayMs: 399 });
    expect(planRetry(4, undefined, settings, () => 0)).toEqual({ retry: true, delayMs: 0 });
    const capped = HttpRetrySettingsSchema.parse({ ...settings, maxAttempts: 20 });
    expect(planRetry(10, undefined, capped, top)).toEqual({ retry: true, delayMs: 999 });
  });

  it('waits at least the Retry-After the server asked for; jitter may only lengthen it', () => {
    expect(planRetry(1, 2_000, settings, () => 0.5)).toEqual({ retry: true, delayMs: 2_000 });
    expect(planRetry(4, 200, settings, () => 0.999)).toEqual({ retry: true, delayMs: 799 });
  });

  it('honours a Retry-After up to maxRetryAfterMs in place, even past 15 minutes', () => {
    const patient = HttpRetrySettingsSchema.parse({ ...settings, maxRetryAfterMs: 3_600_000 });
    expect(planRetry(1, 1_800_000, patient, () => 0)).toEqual({
      retry: true,
      delayMs: 1_800_000,
    });
  });

  it('stops at once when Retry-After exceeds maxRetryAfterMs, keeping the delay', () => {
    expect(planRetry(1, 60_000, settings)).toEqual({ retry: false, retryAfterMs: 60_000 });
  });

  it('stops after maxAttempts', () => {
    expect(planRetry(5, undefined, settings)).toEqual({ retry: false, retryAfterMs: undefined });
    expect(planRetry(4, undefined, settings).retry).toBe(true);
  });
});
