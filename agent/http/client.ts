import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestBudget } from './budget.ts';
import type { Redactor } from '../logging/redactor.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError, systemClock, waitAtMost } from '../plugin-api/index.ts';
import type { Clock, HttpRequest, HttpResponse, Logger } from '../plugin-api/index.ts';
import {
  CREDENTIAL_HEADERS,
  registerCredentialHeaders,
  registerProxyCredentials,
} from './credentials.ts';
import { createDispatcher } from './dispatcher.ts';
import { dispatcherKey } from './dispatcher-pool.ts';
import type { DispatcherLease, DispatcherPool } from './dispatcher-pool.ts';
import type { FailureContext } from './error-map.ts';
import { statusError } from './error-map.ts';
import { exchange, failureContext, firstValue } from './exchange.ts';
import type { ExchangeDeps, Hop } from './exchange.ts';
import { buildOutgoing } from './outgoing.ts';
import { assertDestination } from './policy.ts';
import { createHttpResponse, discardBody } from './response.ts';
import type { HttpSettings } from './settings.ts';
import { caTrust } from './trust.ts';
import type { ClosableHttpClient, DestinationPolicy, ErrorDomain } from './types.ts';

/** What a client is built from. One client per connection (source) or per catalog/control plane. */
export interface HttpClientOptions {
  readonly policy: DestinationPolicy;
  readonly settings: HttpSettings;
  /** Every credential header the client sends is registered here. */
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** Which family of error codes failures map to. */
  readonly errorDomain: ErrorDomain;
  /** e.g. `perimeter/0.1.0`. */
  readonly userAgent: string;
  /** The certificates of `http.caFile`, already read (see readCaBundle); trusted with Node's set. */
  readonly extraCaPem?: string;
  /** NODE_EXTRA_CA_CERTS as the environment gave it, named in TLS errors (Node loads it). */
  readonly nodeExtraCaCerts?: string | undefined;
  /** Stands in for Node's default CA set (tests: NODE_EXTRA_CA_CERTS is read at startup only). */
  readonly defaultCaPems?: readonly string[];
  /** mTLS client certificate. */
  readonly clientCert?: { readonly certPem: string; readonly keyPem: string };
  /** Counts retries in `retriesTotal{component=errorDomain, reason}`. */
  readonly metrics?: Metrics;
  /** Times the waits between retries and the close grace; tests pass their own. */
  readonly clock?: Clock;
  /** The source's request budget, awaited before every attempt (retries too). */
  readonly budget?: RequestBudget;
  /**
   * Where to lease the dispatcher from, shared with the thread's other clients of the same
   * settings (a run's source client); without it the client has a dispatcher of its own.
   */
  readonly dispatchers?: DispatcherPool;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** How long close() lets in-flight requests finish before it destroys the sockets. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Creates the HTTP client: destination policy before every hop, redirects for reads, retries
 * with backoff, errors mapped to the domain's codes, capped and streamed bodies.
 */
export function createHttpClient(options: HttpClientOptions): ClosableHttpClient {
  const { settings, redactor } = options;
  registerProxyCredentials(redactor, settings.httpsProxy);
  registerProxyCredentials(redactor, settings.httpProxy);
  const trust = caTrust(
    {
      caFile: settings.caFile,
      caFilePem: options.extraCaPem,
      nodeExtraCaCerts: options.nodeExtraCaCerts,
    },
    options.defaultCaPems,
  );
  const build = (): Dispatcher =>
    createDispatcher(settings, { ca: trust.ca, clientCert: options.clientCert });
  const lease = options.dispatchers?.lease(
    dispatcherKey([settings, options.extraCaPem, options.defaultCaPems, options.clientCert]),
    build,
  );
  const dispatcher = lease?.dispatcher ?? build();
  const deps: ExchangeDeps = {
    dispatcher,
    settings,
    logger: options.logger,
    metrics: options.metrics,
    domain: options.errorDomain,
    trust,
    clock: options.clock ?? systemClock,
    budget: options.budget,
  };
  // On a shared dispatcher the client ends its own requests when it closes; with its own, it
  // closes the dispatcher, letting requests in flight finish within the grace.
  const shared = lease === undefined ? undefined : new SharedUse(lease);
  let closing: Promise<void> | undefined;
  return {
    request: async (request: HttpRequest): Promise<HttpResponse> => {
      if (closing !== undefined) {
        throw new PerimeterError('RUN_ABORTED', 'The HTTP client is closed.');
      }
      return shared === undefined
        ? send(options, deps, request)
        : shared.track(
            (signal, onBody) => send(options, deps, { ...request, signal }, onBody),
            request.signal,
          );
    },
    close: (): Promise<void> =>
      (closing ??=
        shared === undefined
          ? closeWithin(dispatcher, CLOSE_GRACE_MS, deps.clock)
          : shared.release()),
  };
}

/**
 * A client's use of a leased dispatcher: counts its requests until their response bodies close,
 * so that closing the client aborts those still open (and builds no abort when none is).
 */
class SharedUse {
  readonly #lease: DispatcherLease;
  readonly #closed = new AbortController();
  #open = 0;

  constructor(lease: DispatcherLease) {
    this.#lease = lease;
  }

  async track(
    sendOne: (signal: AbortSignal, onBody: (body: Readable) => void) => Promise<HttpResponse>,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    this.#open += 1;
    let settled = false;
    const done = (): void => {
      if (!settled) {
        settled = true;
        this.#open -= 1;
      }
    };
    try {
      return await sendOne(AbortSignal.any([signal, this.#closed.signal]), (body) => {
        body.once('close', done);
      });
    } catch (error) {
      done();
      throw error;
    }
  }

  release(): Promise<void> {
    if (this.#open > 0) {
      this.#closed.abort(new PerimeterError('RUN_ABORTED', 'The HTTP client is closed.'));
    }
    this.#lease.release();
    return Promise.resolve();
  }
}

/** Sends a request through its redirects; `onBody` gets the body of the response it returns. */
async function send(
  options: HttpClientOptions,
  deps: ExchangeDeps,
  request: HttpRequest,
  onBody?: (body: Readable) => void,
): Promise<HttpResponse> {
  const outgoing = buildOutgoing(request, options.userAgent);
  registerCredentialHeaders(options.redactor, outgoing.headers);
  const isRead = request.method === 'GET' || request.method === 'HEAD';
  let hop: Hop = {
    method: request.method,
    url: outgoing.url,
    endpoint: outgoing.endpoint,
    headers: outgoing.headers,
    body: outgoing.body,
    signal: request.signal,
    retry: request.retry ?? isRead,
    accepts: (status) =>
      (status >= 200 && status <= 299) || request.acceptStatus?.includes(status) === true,
  };
  for (let redirects = 0; ; redirects += 1) {
    assertDestination(options.policy, { ...hop, domain: deps.domain });
    const { raw, attempt, retryAfterMs } = await exchange(deps, hop);
    const context = failureContext(deps, hop, attempt);
    if (hop.accepts(raw.statusCode)) {
      onBody?.(raw.body);
      return createHttpResponse({
        status: raw.statusCode,
        headers: flattenHeaders(raw.headers),
        body: raw.body,
        context,
        signal: request.signal,
        maxResponseBytes: deps.settings.maxResponseBytes,
        maxLineBytes: deps.settings.maxLineBytes,
      });
    }
    // An error status's body is discarded unread: it may quote data or credentials.
    await discardBody(raw.body, request.signal);
    if (!isRead || !REDIRECT_STATUSES.has(raw.statusCode)) {
      throw statusError(raw.statusCode, context, { retryAfterMs });
    }
    if (redirects >= deps.settings.maxRedirects) {
      const problem = `redirected more than ${deps.settings.maxRedirects} times`;
      throw statusError(raw.statusCode, context, { problem });
    }
    hop = redirectHop(hop, raw, context);
  }
}

/** The next hop of a redirect; credentials stay behind when the origin changes. */
function redirectHop(hop: Hop, raw: Dispatcher.ResponseData, context: FailureContext): Hop {
  const location = firstValue(raw.headers['location']);
  if (location === undefined || !URL.canParse(location, hop.url.href)) {
    const problem = `answered ${raw.statusCode} without a usable Location`;
    throw statusError(raw.statusCode, context, { problem });
  }
  const url = new URL(location, hop.url);
  if (hop.url.protocol === 'https:' && url.protocol === 'http:') {
    throw new PerimeterError(
      'POLICY_DENIED',
      `Refused ${hop.endpoint}: ${hop.url.host} redirected from https to plain http.`,
      { context: { host: url.host, method: hop.method, endpoint: hop.endpoint } },
    );
  }
  if (url.origin === hop.url.origin) {
    return { ...hop, url };
  }
  const headers = Object.fromEntries(
    Object.entries(hop.headers).filter(([name]) => !CREDENTIAL_HEADERS.includes(name)),
  );
  return { ...hop, url, headers };
}

function flattenHeaders(
  headers: Dispatcher.ResponseData['headers'],
): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

async function closeWithin(dispatcher: Dispatcher, graceMs: number, clock: Clock): Promise<void> {
  const closed = await waitAtMost(dispatcher.close(), graceMs, { clock }).catch(() => undefined);
  if (closed === undefined || closed.timedOut) {
    await dispatcher.destroy().catch(() => undefined);
  }
}
