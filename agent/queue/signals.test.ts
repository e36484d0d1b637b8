import { describe, expect, it } from 'vitest';
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

  it('turns the run timeout into RUN_TIMEOUT, a retryable error', async () => {
    const { signal } = runSignal({
      cancel: undefined,
      shutdown: new AbortController().signal,
      timeoutMs: 20,
    });
    await new Promise((resolve) => {
      signal.addEventListener('abort', resolve, { once: true });
    });
    expect(signal.reason).toMatchObject({ code: 'RUN_TIMEOUT', retryable: true });
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
  const delay = backoffDelay(settings);

  it('doubles per attempt with ±50 % jitter', () => {
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const expected = 1_000 * 2 ** (attempt - 1);
      const samples = Array.from({ length: 50 }, () => delay(attempt, 'perimeter'));
      expect(Math.min(...samples)).toBeGreaterThanOrEqual(expected * 0.5);
      expect(Math.max(...samples)).toBeLessThanOrEqual(expected * 1.5);
      expect(new Set(samples).size).toBeGreaterThan(1);
    }
  });

  it('never retries sooner than the Retry-After the source gave', () => {
    const throttled = new PerimeterError('SOURCE_RATE_LIMITED', 'slow down', {
      retryAfterMs: 30_000,
    });
    expect(delay(1, 'perimeter', throttled)).toBe(30_000);
  });

  it('caps the delay at an hour', () => {
    expect(delay(40, 'perimeter')).toBeLessThanOrEqual(3_600_000);
  });
});
