import type { Dispatcher } from 'undici';
import type { Metrics } from '../metrics/metrics.ts';
import type { HttpMethod, Logger } from '../plugin-api/index.ts';
import {
  abortedError,
  statusRetryReason,
  transportError,
  transportRetryReason,
} from './error-map.ts';
import type { FailureContext, RetryReason } from './error-map.ts';
import { discardBody } from './response.ts';
import { parseRetryAfterMs, planRetry, waitOrAbort } from './retry.ts';
import type { HttpSettings } from './settings.ts';
import type { ErrorDomain } from './types.ts';

/** What an exchange runs on. */
export interface ExchangeDeps {
  readonly dispatcher: Dispatcher;
  readonly settings: HttpSettings;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly domain: ErrorDomain;
}

/** One hop of a request: the URL already checked against the destination policy. */
export interface Hop {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer | undefined;
  readonly signal: AbortSignal;
  /** Whether failed attempts are retried. */
  readonly retry: boolean;
  /** Statuses handed to the caller as they are: never retried. */
  readonly accepts: (status: number) => boolean;
}

/** The response that ended a hop, whatever its status, and how it got there. */
export interface Exchanged {
  readonly raw: Dispatcher.ResponseData;
  readonly attempt: number;
  /** The server's Retry-After, when it sent one. */
  readonly retryAfterMs: number | undefined;
}

type Outcome =
  | { readonly kind: 'response'; readonly raw: Dispatcher.ResponseData }
  | { readonly kind: 'error'; readonly error: unknown; readonly reason: RetryReason | undefined };

/**
 * Sends one hop, retrying network errors, timeouts, 408, 429 and 5xx with backoff when the hop
 * allows it. Returns the last response; throws when no response came (or on abort).
 */
export async function exchange(deps: ExchangeDeps, hop: Hop): Promise<Exchanged> {
  const settings = deps.settings.retry;
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await attemptOnce(deps, hop, attempt);
    if (outcome.kind === 'error') {
      const plan = planRetry(attempt, undefined, settings);
      if (outcome.reason === undefined || !hop.retry || !plan.retry) {
        throw transportError(outcome.error, failureContext(deps, hop, attempt));
      }
      await backoff(deps, hop, { attempt, reason: outcome.reason, delayMs: plan.delayMs });
      continue;
    }
    const { raw } = outcome;
    const retryAfterMs = parseRetryAfterMs(firstValue(raw.headers['retry-after']), Date.now());
    const reason = hop.accepts(raw.statusCode) ? undefined : statusRetryReason(raw.statusCode);
    const plan = planRetry(attempt, retryAfterMs, settings);
    if (reason === undefined || !hop.retry || !plan.retry) {
      return { raw, attempt, retryAfterMs };
    }
    await discardBody(raw.body, hop.signal);
    await backoff(deps, hop, { attempt, reason, delayMs: plan.delayMs });
  }
}

/** The context of errors about a hop. */
export function failureContext(deps: ExchangeDeps, hop: Hop, attempt: number): FailureContext {
  return { domain: deps.domain, endpoint: hop.endpoint, host: hop.url.host, attempt };
}

/** The first value of a header undici may give as a list. */
export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function attemptOnce(deps: ExchangeDeps, hop: Hop, attempt: number): Promise<Outcome> {
  const { endpoint, method, url, signal } = hop;
  const startedMs = performance.now();
  const fields = (): object => ({
    endpoint,
    method,
    host: url.host,
    attempt,
    durationMs: Math.round(performance.now() - startedMs),
  });
  try {
    const raw = await deps.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers: hop.headers,
      body: hop.body ?? null,
      signal,
    });
    deps.logger.debug({ ...fields(), status: raw.statusCode }, 'HTTP request');
    return { kind: 'response', raw };
  } catch (error) {
    if (signal.aborted) {
      throw abortedError(signal, error);
    }
    const reason = transportRetryReason(error);
    const networkCode = (error as { code?: unknown }).code;
    deps.logger.debug({ ...fields(), networkCode }, 'HTTP request failed');
    return { kind: 'error', error, reason };
  }
}

async function backoff(
  deps: ExchangeDeps,
  hop: Hop,
  retry: { readonly attempt: number; readonly reason: RetryReason; readonly delayMs: number },
): Promise<void> {
  const { attempt, reason, delayMs } = retry;
  deps.metrics?.retriesTotal.inc({ component: deps.domain, reason });
  deps.logger.warn({ endpoint: hop.endpoint, attempt, delayMs, reason }, 'Retrying HTTP request');
  try {
    await waitOrAbort(delayMs, hop.signal);
  } catch (error) {
    throw abortedError(hop.signal, error);
  }
}
