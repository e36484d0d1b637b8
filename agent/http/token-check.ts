import type { HttpClient, SecretValue } from '../plugin-api/index.ts';

/** Every status: the caller reads the answer itself. */
const ANY_STATUS = Array.from({ length: 500 }, (_, index) => index + 100);

/** How a service answered a read-only call made with the agent's bearer token. */
export type TokenVerdict =
  | { readonly kind: 'accepted'; readonly status: number }
  | { readonly kind: 'refused'; readonly status: 401 | 403 }
  | { readonly kind: 'unchecked'; readonly status: number };

/**
 * Makes one read-only GET with `Authorization: Bearer <token>` (none without a token), never
 * retried, the body discarded unread. 2xx: accepted; 401 or 403: refused; anything else (a
 * service without the call, a 5xx): unchecked. Network failures throw as the client maps them.
 */
export async function checkBearerToken(options: {
  readonly http: HttpClient;
  readonly url: string;
  readonly endpoint: string;
  readonly token: SecretValue | undefined;
  readonly signal: AbortSignal;
}): Promise<TokenVerdict> {
  const { token } = options;
  const response = await options.http.request({
    method: 'GET',
    url: options.url,
    headers: {
      accept: 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token.reveal()}` }),
    },
    signal: options.signal,
    retry: false,
    acceptStatus: ANY_STATUS,
    endpoint: options.endpoint,
  });
  await response.dump();
  const { status } = response;
  if (status === 401 || status === 403) {
    return { kind: 'refused', status };
  }
  return status >= 200 && status <= 299
    ? { kind: 'accepted', status }
    : { kind: 'unchecked', status };
}
