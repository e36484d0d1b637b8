import type { z } from 'zod';
import { PerimeterError, TokenSession, systemClock } from '../../agent/plugin-api/index.ts';
import type {
  Clock,
  HttpClient,
  HttpQuery,
  HttpResponse,
  IssuedToken,
  Logger,
} from '../../agent/plugin-api/index.ts';
import type { CyeraConfig } from './config.ts';
import {
  DatastoreSchema,
  IdentitySchema,
  IssueSchema,
  LoginResponseSchema,
  pageSchema,
} from './records.ts';
import type { Datastore, Identity, Issue, LoginResponse } from './records.ts';

/** Endpoint names used in errors, logs and metrics (templates, never ids). */
export const ENDPOINTS = {
  login: 'POST /v1/login',
  datastores: 'GET /v2/datastores',
  tables: 'GET /v1/tables/stream',
  issues: 'GET /v3/issues',
  identities: 'GET /v1/datastores/{uid}/identities',
} as const;

// Lifetime assumed when a login answer gives neither expiresIn nor expires.
const DEFAULT_TOKEN_LIFETIME_MS = 15 * 60_000;

/** What a {@link CyeraClient} needs: the connection, its HTTP client and the run's signal. */
export interface CyeraClientOptions {
  readonly config: CyeraConfig;
  readonly http: HttpClient;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Tests move it to reach a token's renewal time. */
  readonly clock?: Clock;
}

interface Token extends IssuedToken {
  readonly jwt: string;
}

/** An authenticated GET of {@link CyeraClient.get}. */
export interface GetRequest {
  readonly path: string;
  readonly endpoint: string;
  readonly query?: HttpQuery;
  readonly headers?: Readonly<Record<string, string>>;
  readonly acceptStatus?: readonly number[];
}

/**
 * Cyera's API for one run: a JWT from `POST /v1/login` held by a {@link TokenSession} (renewed
 * before it expires, and once after a data call is refused with 401/403); one async generator
 * per paginated resource.
 */
export class CyeraClient {
  readonly #options: CyeraClientOptions;
  readonly #session: TokenSession<Token>;

  constructor(options: CyeraClientOptions) {
    this.#options = options;
    this.#session = new TokenSession<Token>({
      source: 'Cyera',
      obtain: (_renewing, signal) => this.#login(signal),
      signal: options.signal,
      logger: options.logger,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      // Cyera answers 403 to an expired JWT on some endpoints.
      refusedCodes: ['SOURCE_AUTH_FAILED', 'SOURCE_ACCESS_DENIED'],
    });
  }

  /** Logs in now (for `check`), replacing any token held. */
  async login(): Promise<void> {
    await this.#session.login();
  }

  /** Ends the session (Cyera has no logout: the JWT is dropped). */
  close(): Promise<void> {
    return this.#session.close();
  }

  /** Number of datastores the credential can see: one cheap page of `/v2/datastores`. */
  async countDatastores(): Promise<number> {
    const response = await this.get({
      path: '/v2/datastores',
      endpoint: ENDPOINTS.datastores,
      query: { limit: 1, offset: 0 },
    });
    const page = await response.json(pageSchema(DatastoreSchema));
    return page.total ?? page.results.length;
  }

  /** Every datastore, page by page. */
  datastores(): AsyncGenerator<Datastore> {
    const pageSize = this.#options.config.pageSizes.datastores;
    return this.#paginate('/v2/datastores', ENDPOINTS.datastores, DatastoreSchema, pageSize);
  }

  /** Every issue of the tenant, page by page. */
  issues(): AsyncGenerator<Issue> {
    const pageSize = this.#options.config.pageSizes.issues;
    return this.#paginate('/v3/issues', ENDPOINTS.issues, IssueSchema, pageSize);
  }

  /** The identities with access to one datastore, page by page. */
  identities(datastoreUid: string): AsyncGenerator<Identity> {
    const path = `/v1/datastores/${encodeURIComponent(datastoreUid)}/identities`;
    const pageSize = this.#options.config.pageSizes.identities;
    return this.#paginate(path, ENDPOINTS.identities, IdentitySchema, pageSize);
  }

  /** Opens `GET /v1/tables/stream` for one datastore; the caller reads its lines. */
  openTableStream(datastoreUid: string): Promise<HttpResponse> {
    return this.get({
      path: '/v1/tables/stream',
      endpoint: ENDPOINTS.tables,
      query: { datastoreUid },
      headers: { accept: 'application/x-ndjson' },
    });
  }

  /** An authenticated GET. A 401/403 logs in again once, then the call is repeated once. */
  get(request: GetRequest): Promise<HttpResponse> {
    return this.#session.withToken((token) => this.#send(request, token.jwt));
  }

  #send(request: GetRequest, jwt: string): Promise<HttpResponse> {
    const { config, http, signal } = this.#options;
    return http.request({
      method: 'GET',
      url: `${config.baseUrl}${request.path}`,
      query: request.query,
      headers: { accept: 'application/json', ...request.headers, authorization: `Bearer ${jwt}` },
      endpoint: request.endpoint,
      acceptStatus: request.acceptStatus,
      signal,
    });
  }

  async *#paginate<T>(
    path: string,
    endpoint: string,
    item: z.ZodType<T>,
    pageSize: number,
  ): AsyncGenerator<T> {
    const schema = pageSchema(item);
    for (let offset = 0; ;) {
      const query = { limit: pageSize, offset };
      // Some Cyera list endpoints answer 204 for an empty page.
      const response = await this.get({ path, endpoint, query, acceptStatus: [204] });
      if (response.status === 204) {
        await response.dump();
        return;
      }
      const page = await response.json(schema);
      yield* page.results;
      // The server clamps `limit` silently, so a short page is not the end: `total` is.
      offset += page.results.length;
      if (page.results.length === 0 || (page.total !== undefined && offset >= page.total)) {
        return;
      }
    }
  }

  async #login(signal: AbortSignal): Promise<Token> {
    const { config, http } = this.#options;
    const response = await http.request({
      method: 'POST',
      url: `${config.baseUrl}/v1/login`,
      headers: { accept: 'application/json' },
      json: {
        clientId: config.credentials.clientId.reveal(),
        secret: config.credentials.secret.reveal(),
      },
      endpoint: ENDPOINTS.login,
      // Logging in changes nothing at Cyera, so it may be retried like a read.
      retry: true,
      acceptStatus: [401, 403],
      signal,
    });
    if (response.status === 401 || response.status === 403) {
      await response.dump();
      throw new PerimeterError(
        'SOURCE_AUTH_FAILED',
        `Cyera refused the client id and secret (${ENDPOINTS.login} answered ${response.status}). Check that the referenced secrets hold an active Cyera API key.`,
        { context: { endpoint: ENDPOINTS.login, status: response.status } },
      );
    }
    return this.#tokenOf(await response.json(LoginResponseSchema));
  }

  #tokenOf(body: LoginResponse): Token {
    const nowMs = (this.#options.clock ?? systemClock).now();
    // The refine in LoginResponseSchema guarantees one of the three.
    const jwt = body.jwt ?? body.token ?? body.accessToken ?? '';
    return { jwt, expiresAtMs: expiryOf(body, nowMs) };
  }
}

function expiryOf(body: LoginResponse, nowMs: number): number {
  if (body.expiresIn !== undefined) {
    return nowMs + body.expiresIn * 1000;
  }
  const expires = body.expires === undefined ? Number.NaN : Date.parse(body.expires);
  return Number.isFinite(expires) && expires > nowMs ? expires : nowMs + DEFAULT_TOKEN_LIFETIME_MS;
}
