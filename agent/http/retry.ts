import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpRetrySettings } from './settings.ts';

/**
 * Parses a `Retry-After` value (delta seconds or an HTTP-date) into milliseconds from `nowMs`.
 * Returns undefined when absent or malformed; a date in the past means 0.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === '') {
    return undefined;
  }
  if (/^\d+(\.\d+)?$/.test(text)) {
    return Math.ceil(Number(text) * 1000);
  }
  // HTTP-dates open with the day name; Date.parse alone would take '-5' for a year.
  const dateMs = /^[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(dateMs) ? undefined : Math.max(0, dateMs - nowMs);
}

/**
 * "Full jitter" exponential backoff (AWS architecture blog): a uniform wait between 0 and
 * min(maxDelay, base * 2^(attempt-1)), so that many agents retrying together spread out.
 * `attempt` is the number of the attempt that just failed, from 1.
 */
export function backoffDelayMs(
  attempt: number,
  settings: HttpRetrySettings,
  random: () => number = Math.random,
): number {
  const ceilingMs = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceilingMs);
}

/** What to do after a failed attempt. */
export type RetryPlan =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly retryAfterMs: number | undefined };

/**
 * Decides whether to retry after attempt number `attempt` failed. A server asking for a longer
 * wait than `maxRetryAfterMs` ends the retries at once: the queue reschedules the run instead of
 * a worker holding it idle.
 */
export function planRetry(
  attempt: number,
  retryAfterMs: number | undefined,
  settings: HttpRetrySettings,
): RetryPlan {
  if (attempt >= settings.maxAttempts) {
    return { retry: false, retryAfterMs };
  }
  if (retryAfterMs !== undefined && retryAfterMs > settings.maxRetryAfterMs) {
    return { retry: false, retryAfterMs };
  }
  // Retry-After is a floor: the jittered backoff may only lengthen it.
  return { retry: true, delayMs: Math.max(retryAfterMs ?? 0, backoffDelayMs(attempt, settings)) };
}

/** Waits `delayMs`; rejects as soon as `signal` aborts (with the timers' AbortError). */
export async function waitOrAbort(delayMs: number, signal: AbortSignal): Promise<void> {
  await sleep(delayMs, undefined, { signal });
}
