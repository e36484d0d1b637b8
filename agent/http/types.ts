import type { HttpClient, HttpMethod } from '../plugin-api/index.ts';

/**
 * Where a client may send requests. Checked before any socket opens, for the first request and
 * for every redirect hop.
 */
export interface DestinationPolicy {
  /**
   * Host patterns: `api.cyera.io` (default port of the scheme), `api.cyera.io:8443`,
   * `127.0.0.1:*` (any port), `*.cyera.io` (any subdomain, not the apex).
   */
  readonly allowedHosts: readonly string[];
  /**
   * Calls allowed besides GET and HEAD. `path` is exact, `*` matches one segment and `**` the
   * rest of the path (the sink and the link allow `POST /v1/**` on their one host).
   */
  readonly allowedCalls: readonly { readonly method: HttpMethod; readonly path: string }[];
  /**
   * Paths GET may read (same patterns as `allowedCalls`). Undefined: any path. HEAD, which
   * returns no body, is not restricted (reach probes use it).
   */
  readonly allowedReads?: readonly string[];
}

/** Which family of error codes a client's failures map to. */
export type ErrorDomain = 'source' | 'sink' | 'controlPlane';

/** A client that can be closed (its connection pool). */
export interface ClosableHttpClient extends HttpClient {
  /** Closes the pool; idempotent. */
  close(): Promise<void>;
}
