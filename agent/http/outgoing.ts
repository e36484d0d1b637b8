import { PerimeterError } from '../plugin-api/index.ts';
import type { HttpQuery, HttpRequest } from '../plugin-api/index.ts';

/** A request ready to send: final URL, lower-case headers, encoded body. */
export interface Outgoing {
  readonly url: URL;
  /** `endpoint` of the request, or method and path (never the query string). */
  readonly endpoint: string;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer | undefined;
}

/**
 * Builds the URL (query appended), headers (lower-case, user agent and content type added) and
 * body of a request. A URL that does not parse is refused as POLICY_DENIED: the policy cannot
 * vouch for it, and its text is not echoed because its query may hold a token.
 */
export function buildOutgoing(request: HttpRequest, userAgent: string): Outgoing {
  if (!URL.canParse(request.url)) {
    const endpoint = request.endpoint ?? request.method;
    throw new PerimeterError(
      'POLICY_DENIED',
      `Refused ${endpoint}: the URL is not an absolute http(s) URL.`,
      { context: { endpoint, method: request.method } },
    );
  }
  const url = new URL(request.url);
  appendQuery(url, request.query ?? {});
  const headers: Record<string, string> = { 'user-agent': userAgent };
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  return {
    url,
    endpoint: request.endpoint ?? `${request.method} ${url.pathname}`,
    headers,
    body: encodeBody(request, headers),
  };
}

function appendQuery(url: URL, query: HttpQuery): void {
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) {
      continue;
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      url.searchParams.append(key, String(item));
    }
  }
}

function encodeBody(
  request: HttpRequest,
  headers: Record<string, string>,
): string | Buffer | undefined {
  const given = [request.json, request.form, request.body].filter((part) => part !== undefined);
  if (given.length > 1) {
    throw new PerimeterError(
      'INTERNAL',
      `${request.endpoint ?? request.method} sets more than one of json, form and body.`,
    );
  }
  if (request.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    return JSON.stringify(request.json);
  }
  if (request.form !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    return new URLSearchParams(request.form).toString();
  }
  return request.body;
}
