import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { Clock, HttpClient, IssuedToken, Logger } from '../../agent/plugin-api/index.ts';
import type { CyralConfig } from './config.ts';
import { TokenResponseSchema } from './records.ts';

/** The token endpoint, as named in errors, logs and metrics. */
export const TOKEN_ENDPOINT = 'POST /v1/users/oidc/token';

/** Lifetime assumed when the token answer has no `expires_in` (Keycloak's default). */
const DEFAULT_LIFETIME_SECONDS = 300;

/** A Cyral access token, with the refresh token when the control plane issued one. */
export interface CyralToken extends IssuedToken {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  /** When the refresh token stops working; undefined when the answer did not say. */
  readonly refreshExpiresAtMs: number | undefined;
}

/** What obtaining a token needs. */
export interface TokenGrantOptions {
  readonly config: CyralConfig;
  readonly http: HttpClient;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * Obtains a token from `POST /v1/users/oidc/token` (form-encoded). Renewing a token that came
 * with a refresh token uses the `refresh_token` grant; when there is none, it has expired, or the
 * control plane refuses it, a new `client_credentials` grant follows.
 */
export async function obtainToken(
  options: TokenGrantOptions,
  renewing: CyralToken | undefined,
  signal: AbortSignal,
): Promise<CyralToken> {
  const refreshToken = renewing?.refreshToken;
  const usable =
    refreshToken !== undefined &&
    (renewing?.refreshExpiresAtMs === undefined ||
      options.clock.now() < renewing.refreshExpiresAtMs);
  if (usable) {
    const refreshed = await grant(
      options,
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      signal,
    );
    if (refreshed !== undefined) {
      return refreshed;
    }
    options.logger.info(
      { endpoint: TOKEN_ENDPOINT },
      'Cyral refused the refresh token; requesting a new token',
    );
  }
  const token = await grant(options, { grant_type: 'client_credentials' }, signal);
  if (token === undefined) {
    throw new PerimeterError(
      'SOURCE_AUTH_FAILED',
      `The Cyral control plane refused the client credentials (${TOKEN_ENDPOINT}). Check that the referenced secrets hold an active API client id and secret, and the clientIdField setting.`,
      { context: { endpoint: TOKEN_ENDPOINT } },
    );
  }
  return token;
}

/** One token request; undefined when the control plane refuses the grant (400 or 401). */
async function grant(
  options: TokenGrantOptions,
  fields: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<CyralToken | undefined> {
  const { config, http, clock } = options;
  const camel = config.clientIdField === 'clientId';
  const response = await http.request({
    method: 'POST',
    url: `${config.baseUrl}/v1/users/oidc/token`,
    headers: { accept: 'application/json' },
    form: {
      ...fields,
      [camel ? 'clientId' : 'client_id']: config.credentials.clientId.reveal(),
      [camel ? 'clientSecret' : 'client_secret']: config.credentials.clientSecret.reveal(),
    },
    endpoint: TOKEN_ENDPOINT,
    // A token request changes nothing at Cyral, so it may be retried like a read.
    retry: true,
    acceptStatus: [400, 401],
    signal,
  });
  if (response.status === 400 || response.status === 401) {
    await response.dump();
    return undefined;
  }
  const body = await response.json(TokenResponseSchema);
  const nowMs = clock.now();
  const refreshSeconds = body.refresh_expires_in;
  return {
    accessToken: body.access_token,
    expiresAtMs: nowMs + (body.expires_in ?? DEFAULT_LIFETIME_SECONDS) * 1000,
    refreshToken: body.refresh_token,
    // Keycloak says 0 for a refresh token without its own expiry.
    refreshExpiresAtMs:
      refreshSeconds === undefined || refreshSeconds === 0
        ? undefined
        : nowMs + refreshSeconds * 1000,
  };
}

/**
 * The `Authorization` value of a data call. Always `Bearer` with a capital B: Keycloak's
 * `token_type` says `bearer`, and the control plane refuses that spelling.
 */
export function bearer(token: CyralToken): string {
  return `Bearer ${token.accessToken}`;
}
