import { backoffDelayMs } from '../plugin-api/index.ts';
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

/** What to do after a failed attempt. */
export type RetryPlan =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly retryAfterMs: number | undefined };

/**
 * Decides whether to retry after attempt number `attempt` (from 1) failed, and how long to wait:
 * the toolkit's full-jitter backoff from `baseDelayMs` up to `maxDelayMs`, never shorter than the
 * server's Retry-After. A server asking for a longer wait than `maxRetryAfterMs` ends the retries
 * at once: the queue reschedules the run instead of a worker holding it idle.
 */
export function planRetry(
  attempt: number,
  retryAfterMs: number | undefined,
  settings: HttpRetrySettings,
  random: () => number = Math.random,
): RetryPlan {
  if (attempt >= settings.maxAttempts) {
    return { retry: false, retryAfterMs };
  }
  if (retryAfterMs !== undefined && retryAfterMs > settings.maxRetryAfterMs) {
    return { retry: false, retryAfterMs };
  }
  const policy = { baseMs: settings.baseDelayMs, maxMs: settings.maxDelayMs };
  // A floor, not the toolkit's capped Retry-After: `maxRetryAfterMs` already bounds it above.
  const delayMs = backoffDelayMs(policy, attempt, { floorMs: retryAfterMs }, random);
  return { retry: true, delayMs };
}
