import type { z } from 'zod';

/** HTTP methods. Connectors may use only GET and HEAD, plus the auth calls they declare. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Query parameters; arrays repeat the key (`?a=1&a=2`), undefined values are left out. */
export type HttpQuery = Readonly<
  Record<string, string | number | boolean | readonly (string | number)[] | undefined>
>;

/** One request through the agent's HTTP client. */
export interface HttpRequest {
  readonly method: HttpMethod;
  /** Absolute URL (http or https). Its host must be in the connection's allowed set. */
  readonly url: string;
  readonly query?: HttpQuery;
  /** Request headers. An `authorization` value is registered with the log redactor. */
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON body; sets `content-type: application/json`. */
  readonly json?: unknown;
  /** Form body; sets `content-type: application/x-www-form-urlencoded`. */
  readonly form?: Readonly<Record<string, string>>;
  /** Raw body. */
  readonly body?: string | Buffer;
  /** Aborts the request, its retries and any wait between them. */
  readonly signal: AbortSignal;
  /**
   * Names the endpoint in errors, logs and metrics, e.g. `GET /v2/datastores`.
   * @default method and URL path, without the query string
   */
  readonly endpoint?: string;
  /**
   * Retry network errors, 408, 429 and 5xx with jittered exponential backoff honouring
   * `Retry-After`. @default true for GET and HEAD, false for everything else
   */
  readonly retry?: boolean;
  /** Statuses returned to the caller instead of being turned into errors (e.g. `[404]`). */
  readonly acceptStatus?: readonly number[];
}

/** A line of a streamed text body, 1-based. */
export interface BodyLine {
  readonly line: string;
  readonly lineNumber: number;
}

/** A response whose status is 2xx or listed in `acceptStatus`. Read or dump its body once. */
export interface HttpResponse {
  readonly status: number;
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /**
   * Reads the body (capped in size) as JSON and validates it. A parse or schema failure
   * throws SOURCE_RESPONSE_INVALID naming the endpoint and the failing paths, never the body.
   */
  json<T>(schema: z.ZodType<T>): Promise<T>;
  /** Reads the body (capped in size) as UTF-8 text. */
  text(): Promise<string>;
  /**
   * Streams the body as lines split on LF (CR before LF removed), decoded as UTF-8 across
   * chunk boundaries. Blank lines are yielded too; each line is capped in length.
   */
  lines(): AsyncIterable<BodyLine>;
  /** Discards the body so the connection can be reused. */
  dump(): Promise<void>;
}

/**
 * The only way a connector reaches the network. Bound to one connection's destination policy:
 * a request to a host outside the allowed set (redirects included), or a method other than
 * GET/HEAD beyond the declared auth calls, throws POLICY_DENIED before any socket opens.
 * Non-accepted statuses throw: 401 SOURCE_AUTH_FAILED, 403 SOURCE_ACCESS_DENIED,
 * 429 SOURCE_RATE_LIMITED (with retryAfterMs), 5xx and network errors SOURCE_UNAVAILABLE,
 * other 4xx SOURCE_REQUEST_FAILED.
 */
export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
}
