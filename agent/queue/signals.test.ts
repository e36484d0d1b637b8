import { afterEach, describe, expect, it, vi } from 'vitest';
import { PerimeterError } from '../plugin-api/index.ts';
import { backoffDelay } from './processor.ts';
import { QueueSettingsSchema } from './settings.ts';
import { runSignal } from './signals.ts';

describe('runSignal', () => {
  it('turns a cancel from BullMQ into RUN_CANCELLED', () => {
    const cancel = new AbortController();
    const { signal } = runSignal({
      cancel: cancel.signal,
      shutdown: new AbortController().signal,
      timeoutMs: 60_000,
    });
    cancel.abort('cancel');
    expect(signal.reason).toMatchObject({ code: 'RUN_CANCELLED', retryable: false });
  });

  it('turns the drain into RUN_ABORTED, keeping the drain reason', () => {
    const shutdown = new AbortController();
    const { signal } = runSignal({
      cancel: undefined,
      shutdown: shutdown.signal,
      timeoutMs: 60_000,
    });
    const reason = new PerimeterError('RUN_ABORTED', 'grace over');
    shutdown.abort(reason);
    expect(signal.reason).toBe(reason);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns the run timeout into RUN_TIMEOUT, a retryable error, exactly when it expires', () => {
    vi.useFakeTimers();
    const { signal } = runSignal({
      cancel: undefined,
      shutdown: new AbortController().signal,
      timeoutMs: 60_000,
    });
    vi.advanceTimersByTime(59_999);
    expect(signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(signal.reason).toMatchObject({ code: 'RUN_TIMEOUT', retryable: true });
  });

  it('leaves no timer behind once disposed', () => {
    vi.useFakeTimers();
    const run = runSignal({
      cancel: undefined,
      shutdown: new AbortController().signal,
      timeoutMs: 60_000,
    });
    expect(vi.getTimerCount()).toBe(1);
    run.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(run.signal.aborted).toBe(false);
  });

  it('is aborted from the start when a source already is, and stops listening once disposed', () => {
    const shutdown = new AbortController();
    shutdown.abort(new PerimeterError('RUN_ABORTED', 'already'));
    expect(
      runSignal({ cancel: undefined, shutdown: shutdown.signal, timeoutMs: 60_000 }).signal.aborted,
    ).toBe(true);
    const cancel = new AbortController();
    const run = runSignal({
      cancel: cancel.signal,
      shutdown: new AbortController().signal,
      timeoutMs: 60_000,
    });
    run.dispose();
    cancel.abort();
    expect(run.signal.aborted).toBe(false);
  });
});

describe('backoffDelay', () => {
  const settings = QueueSettingsSchema.parse({ backoffMs: 1_000 });

  it('draws each delay between 0 and a ceiling that doubles per attempt (full jitter)', () => {
    const top = backoffDelay(settings, () => 0.999);
    expect([1, 2, 3, 4].map((attempt) => top(attempt, 'perimeter'))).toEqual([
      999, 1_998, 3_996, 7_992,
    ]);
    expect(backoffDelay(settings, () => 0)(4, 'perimeter')).toBe(0);
    const delay = backoffDelay(settings);
    const samples = Array.from({ length: 50 }, () => delay(3, 'perimeter'));
    expect(Math.max(...samples)).toBeLessThan(4_000);
    expect(new Set(samples).size).toBeGreaterThan(1);
  });

  it('never retries sooner than the Retry-After the source gave, even past 15 minutes', () => {
    const delay = backoffDelay(settings, () => 0.5);
    const throttled = (retryAfterMs: number): PerimeterError =>
      new PerimeterError('SOURCE_RATE_LIMITED', 'slow down', { retryAfterMs });
    expect(delay(1, 'perimeter', throttled(30_000))).toBe(30_000);
    expect(delay(1, 'perimeter', throttled(40 * 60_000))).toBe(40 * 60_000);
  });

  it('caps the delay, and the Retry-After it honours, at an hour', () => {
    const delay = backoffDelay(settings, () => 0.999999);
    expect(delay(40, 'perimeter')).toBe(3_599_996);
    const throttled = new PerimeterError('SOURCE_RATE_LIMITED', 'slow down', {
      retryAfterMs: 86_400_000,
    });
    expect(delay(1, 'perimeter', throttled)).toBe(3_600_000);
  });
});
