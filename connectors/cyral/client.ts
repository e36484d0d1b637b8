import type { z } from 'zod';
import {
  Backoff,
  PerimeterError,
  TokenSession,
  sleep,
  systemClock,
} from '../../agent/plugin-api/index.ts';
import type {
  Clock,
  HttpClient,
  HttpQuery,
  HttpResponse,
  Logger,
} from '../../agent/plugin-api/index.ts';
import type { CyralConfig } from './config.ts';
import { ComposedBindingsPageSchema } from './records.ts';
import { bearer, obtainToken } from './token.ts';
import type { CyralToken } from './token.ts';

/** What a {@link CyralClient} needs: the connection, its HTTP client and the run's signal. */
export interface CyralClientOptions {
  readonly config: CyralConfig;
  readonly http: HttpClient;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Tests share one with the simulator to pass token lifetimes without waiting. */
  readonly clock?: Clock | undefined;
}

/** One read: the endpoint's name (a template, never ids), the path and the answer's schema. */
export interface ReadRequest<T> {
  readonly endpoint: string;
  readonly path: string;
  readonly schema: z.ZodType<T>;
  readonly query?: HttpQuery;
}

/** The filter endpoint, a POST that only reads (declared with the connector's auth calls). */
export const BINDINGS_FILTER_ENDPOINT = 'POST /v1/sidecars/{id}/composedBindings/filter';

// Statuses a per-object read may carry a NotFound with; the body says which it is.
const MAYBE_NOT_FOUND = [400, 404, 500] as const;
// How Cyral words a missing object: `NotFound`, `policy not found`, `not found in policy`.
const NOT_FOUND_TEXT = /notfound|not found/i;

/**
 * A Cyral control plane for one run: an access token held by a {@link TokenSession} (renewed
 * ahead of `expires_in`, and once after a 401), reads of whole kinds ({@link read}: any failure
 * fails the run, naming the endpoint), reads of one object ({@link readOptional}: a NotFound,
 * whatever its status, is undefined), and the paginated bindings filter.
 */
export class CyralClient {
  readonly #options: CyralClientOptions;
  readonly #clock: Clock;
  readonly #session: TokenSession<CyralToken>;

  constructor(options: CyralClientOptions, session?: TokenSession<CyralToken>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const grant = { ...options, clock: this.#clock };
    this.#session =
      session ??
      new TokenSession<CyralToken>({
        source: 'Cyral',
        obtain: (renewing, signal) => obtainToken(grant, renewing, signal),
        signal: options.signal,
        logger: options.logger,
        clock: this.#clock,
      });
  }

  /**
   * The same control plane and token for one object's reads, whose requests and waits stop when
   * `signal` aborts (its per-object timeout); closing it is not needed.
   */
  forObject(signal: AbortSignal): CyralClient {
    return new CyralClient({ ...this.#options, signal }, this.#session);
  }

  /** Obtains a token now (for `check`), replacing any token held. */
  async login(): Promise<void> {
    await this.#session.login();
  }

  /** Ends the session (Cyral has no revocation call: the token expires by itself). */
  close(): Promise<void> {
    return this.#session.close();
  }

  /** A read of a whole kind: every failure is thrown, naming the endpoint. */
  async read<T>(request: ReadRequest<T>): Promise<T> {
    const response = await this.#get(request, []);
    return response.json(request.schema);
  }

  /**
   * A read of one object: undefined when the control plane says NotFound (404, or a 400/500
   * whose body says so). A 500 that does not say NotFound is retried with backoff here.
   */
  async readOptional<T>(request: ReadRequest<T>): Promise<T | undefined> {
    const { retry } = this.#options.config;
    const backoff = new Backoff({ baseMs: retry.baseDelayMs, maxMs: retry.maxDelayMs });
    for (;;) {
      const response = await this.#get(request, MAYBE_NOT_FOUND);
      if (response.status < 300) {
        return response.json(request.schema);
      }
      // The body is only matched, never logged or quoted.
      if (response.status === 404 || NOT_FOUND_TEXT.test(await response.text())) {
        return undefined;
      }
      const attempt = backoff.failures + 1;
      if (response.status !== 500 || attempt >= retry.maxAttempts) {
        throw failure(request.endpoint, response.status, attempt);
      }
      await sleep(backoff.next(), { signal: this.#options.signal, clock: this.#clock });
    }
  }

  /** The binding ids of a sidecar, page by page (`pageSize`, `pageAfter`, `totalCount`). */
  async *bindingIds(sidecarId: string): AsyncGenerator<string> {
    const { config, http, signal } = this.#options;
    const url = `${config.baseUrl}/v1/sidecars/${encodeURIComponent(sidecarId)}/composedBindings/filter`;
    let collected = 0;
    let after: string | undefined;
    for (;;) {
      const query = { pageSize: config.bindingsPageSize, pageAfter: after };
      const response = await this.#session.withToken((token) =>
        http.request({
          method: 'POST',
          url,
          query,
          headers: { accept: 'application/json', authorization: bearer(token) },
          body: '',
          endpoint: BINDINGS_FILTER_ENDPOINT,
          // It only reads, so it is retried like a GET.
          retry: true,
          signal,
        }),
      );
      const page = await response.json(ComposedBindingsPageSchema);
      const last = page.composedBindings.at(-1)?.binding.id;
      for (const { binding } of page.composedBindings) {
        yield binding.id;
      }
      collected += page.composedBindings.length;
      if (last === undefined || last === after || collected >= page.totalCount) {
        return;
      }
      after = last;
    }
  }

  #get(request: ReadRequest<unknown>, acceptStatus: readonly number[]): Promise<HttpResponse> {
    const { config, http, signal } = this.#options;
    return this.#session.withToken((token) =>
      http.request({
        method: 'GET',
        url: `${config.baseUrl}${request.path}`,
        query: request.query,
        headers: { accept: 'application/json', authorization: bearer(token) },
        endpoint: request.endpoint,
        acceptStatus,
        signal,
      }),
    );
  }
}

function failure(endpoint: string, status: number, attempt: number): PerimeterError {
  const unavailable = status >= 500;
  return new PerimeterError(
    unavailable ? 'SOURCE_UNAVAILABLE' : 'SOURCE_REQUEST_FAILED',
    `The Cyral control plane answered ${status} to ${endpoint}${attempt > 1 ? ` after ${attempt} attempts` : ''}.`,
    { context: { endpoint, status, attempt } },
  );
}

/** A path segment from an id. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}
