import type { Dispatcher } from 'undici';
import type { RequestBudget } from './budget.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { sleep } from '../plugin-api/index.ts';
import type { Clock, HttpMethod, Logger } from '../plugin-api/index.ts';
import {
  abortedError,
  certificateCode,
  isProxyCertificateFailure,
  statusRetryReason,
  transportError,
  transportRetryReason,
} from './error-map.ts';
import type { FailureContext, RetryReason } from './error-map.ts';
import { probePresentedChain } from './peer-probe.ts';
import type { ProbeOutcome } from './peer-probe.ts';
import { proxyFor } from './proxy-route.ts';
import { discardBody } from './response.ts';
import { parseRetryAfterMs, planRetry } from './retry.ts';
import type { HttpSettings } from './settings.ts';
import type { CaTrust } from './trust.ts';
import type { ErrorDomain } from './types.ts';

/** Longest wait of the diagnostic handshake after a certificate failure. */
const PROBE_TIMEOUT_MS = 5_000;

/** What an exchange runs on. */
export interface ExchangeDeps {
  readonly dispatcher: Dispatcher;
  readonly settings: HttpSettings;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly domain: ErrorDomain;
  /** What the client trusts, named in certificate errors. */
  readonly trust: CaTrust;
  readonly clock: Clock;
  /** The source's request budget, drawn from before every attempt; none for other peers. */
  readonly budget?: RequestBudget | undefined;
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
    await takeBudget(deps, hop);
    const outcome = await attemptOnce(deps, hop, attempt);
    if (outcome.kind === 'error') {
      const plan = planRetry(attempt, undefined, settings);
      if (outcome.reason === undefined || !hop.retry || !plan.retry) {
        throw await failureError(deps, hop, outcome.error, attempt);
      }
      await backoff(deps, hop, { attempt, reason: outcome.reason, delayMs: plan.delayMs });
      continue;
    }
    const { raw } = outcome;
    const retryAfterMs = parseRetryAfterMs(firstValue(raw.headers['retry-after']), Date.now());
    if (raw.statusCode === 429) {
      await deps.budget?.rateLimited(hop.url, retryAfterMs);
    }
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

/**
 * The error of a hop that got no response. A certificate failure is followed by a diagnostic
 * handshake (no request bytes) so that the error can name what was presented.
 */
async function failureError(
  deps: ExchangeDeps,
  hop: Hop,
  error: unknown,
  attempt: number,
): Promise<Error> {
  const context = failureContext(deps, hop, attempt);
  if (certificateCode(error) === undefined) {
    return transportError(error, context);
  }
  const probe = await probeFor(deps, hop, error);
  if (hop.signal.aborted) {
    return abortedError(hop.signal, error);
  }
  return transportError(error, context, { probe, trust: deps.trust });
}

function probeFor(deps: ExchangeDeps, hop: Hop, error: unknown): Promise<ProbeOutcome> {
  const proxy = proxyFor(hop.url, deps.settings);
  const timeoutMs = Math.min(deps.settings.connectTimeoutMs, PROBE_TIMEOUT_MS);
  const common = { proxyCa: deps.trust.ca, timeoutMs, signal: hop.signal };
  // An https proxy's own certificate failed: that is the one to show.
  return isProxyCertificateFailure(error) && proxy !== undefined
    ? probePresentedChain({ ...common, url: proxy, proxy: undefined })
    : probePresentedChain({ ...common, url: hop.url, proxy });
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

async function takeBudget(deps: ExchangeDeps, hop: Hop): Promise<void> {
  try {
    await deps.budget?.take(hop.url, hop.signal);
  } catch (error) {
    if (hop.signal.aborted) {
      throw abortedError(hop.signal, error);
    }
    throw error;
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
    await sleep(delayMs, { signal: hop.signal, clock: deps.clock });
  } catch (error) {
    throw abortedError(hop.signal, error);
  }
}
