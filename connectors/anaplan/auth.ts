import {
  PerimeterError,
  TokenSession,
  isPerimeterError,
  systemClock,
} from '../../agent/plugin-api/index.ts';
import type {
  Clock,
  HttpClient,
  HttpResponse,
  IssuedToken,
  Logger,
} from '../../agent/plugin-api/index.ts';
import type { AnaplanConfig } from './config.ts';
import { AuthFailureSchema, TokenResponseSchema } from './records.ts';
import { certificateLogin } from './signing.ts';

/** The auth API's calls: the only non-GET requests the connector sends. */
export const AUTH_ENDPOINTS = {
  authenticate: 'POST /token/authenticate',
  refresh: 'POST /token/refresh',
  logout: 'POST /token/logout',
} as const;

// Anaplan's tokens live 35 minutes; renew about 5 minutes ahead (the session also bounds the
// margin by a tenth of the lifetime, 3.5 minutes for a full-length token).
const RENEW_MARGIN_MS = 5 * 60_000;

/** An Anaplan auth token: sent as `Authorization: AnaplanAuthToken <value>`. */
export interface AnaplanToken extends IssuedToken {
  readonly value: string;
}

/** What an Anaplan session needs. */
export interface AnaplanSessionOptions {
  readonly config: AnaplanConfig;
  readonly http: HttpClient;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * One Anaplan login for a run: Basic or CA certificate on the auth host, refreshed with
 * `POST /token/refresh` ahead of expiry (a full login when the refresh is refused), once more
 * after a 401 from the API, and logged out with `POST /token/logout` when the session closes.
 */
export function createAnaplanSession(options: AnaplanSessionOptions): TokenSession<AnaplanToken> {
  const clock = options.clock ?? systemClock;
  return new TokenSession<AnaplanToken>({
    source: 'Anaplan',
    obtain: async (renewing, signal) => {
      if (renewing !== undefined) {
        const refreshed = await refresh(options, renewing, signal);
        if (refreshed !== undefined) {
          return refreshed;
        }
      }
      return authenticate(options, clock, signal);
    },
    revoke: (token, signal) => logout(options, token, signal),
    signal: options.signal,
    logger: options.logger,
    clock,
    maxRenewMarginMs: RENEW_MARGIN_MS,
  });
}

/** The `Authorization` header of a call made with `token`. */
export function tokenHeader(token: AnaplanToken): string {
  return `AnaplanAuthToken ${token.value}`;
}

async function authenticate(
  options: AnaplanSessionOptions,
  clock: Clock,
  signal: AbortSignal,
): Promise<AnaplanToken> {
  const { config, http } = options;
  const login = loginRequest(config, clock);
  const response = await http.request({
    method: 'POST',
    url: `${config.authUrl}/token/authenticate`,
    headers: { accept: 'application/json', authorization: login.authorization },
    ...(login.body === undefined ? {} : { json: login.body }),
    endpoint: AUTH_ENDPOINTS.authenticate,
    // A signed nonce must never be sent twice (Anaplan refuses a replay): a certificate login is
    // not retried by the client; a new login signs a new nonce. A Basic login may be repeated.
    retry: config.authMode === 'basic',
    acceptStatus: [400, 401, 403],
    signal,
  });
  if (response.status >= 400) {
    throw await refusal(config, response);
  }
  return tokenOf(config, response, AUTH_ENDPOINTS.authenticate);
}

function loginRequest(
  config: AnaplanConfig,
  clock: Clock,
): { authorization: string; body?: object } {
  const { credentials } = config;
  if (config.authMode === 'basic') {
    const user = credentials.user?.reveal() ?? '';
    const password = credentials.password?.reveal() ?? '';
    return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  }
  return certificateLogin(
    {
      certificatePem: credentials.certificate?.reveal() ?? '',
      privateKeyPem: credentials.privateKey?.reveal() ?? '',
      ...(credentials.passphrase === undefined
        ? {}
        : { passphrase: credentials.passphrase.reveal() }),
    },
    { format: config.encodedDataFormat, nowMs: clock.now() },
  );
}

/** Renews a token; undefined when Anaplan refuses (expired or revoked): then log in again. */
async function refresh(
  options: AnaplanSessionOptions,
  token: AnaplanToken,
  signal: AbortSignal,
): Promise<AnaplanToken | undefined> {
  const { config, http, logger } = options;
  const response = await http.request({
    method: 'POST',
    url: `${config.authUrl}/token/refresh`,
    headers: { accept: 'application/json', authorization: tokenHeader(token) },
    endpoint: AUTH_ENDPOINTS.refresh,
    acceptStatus: [401],
    signal,
  });
  if (response.status === 401) {
    await response.dump();
    logger.info({ endpoint: AUTH_ENDPOINTS.refresh }, 'Anaplan refused the refresh; logging in');
    return undefined;
  }
  return tokenOf(config, response, AUTH_ENDPOINTS.refresh);
}

async function logout(
  options: AnaplanSessionOptions,
  token: AnaplanToken,
  signal: AbortSignal,
): Promise<void> {
  const { config, http, logger } = options;
  const response = await http.request({
    method: 'POST',
    url: `${config.authUrl}/token/logout`,
    headers: { authorization: tokenHeader(token) },
    endpoint: AUTH_ENDPOINTS.logout,
    // Already expired or revoked: nothing left to end.
    acceptStatus: [401],
    signal,
  });
  await response.dump();
  logger.debug({ endpoint: AUTH_ENDPOINTS.logout, status: response.status }, 'Logged out');
}

async function tokenOf(
  config: AnaplanConfig,
  response: HttpResponse,
  endpoint: string,
): Promise<AnaplanToken> {
  const body = await response.json(TokenResponseSchema);
  if (body.status !== 'SUCCESS') {
    throw new PerimeterError(
      'SOURCE_AUTH_FAILED',
      `Anaplan answered ${endpoint} without a token (status ${body.status}). ${credentialHint(config)}`,
      { context: { endpoint, authMode: config.authMode } },
    );
  }
  return { value: body.tokenInfo.tokenValue, expiresAtMs: body.tokenInfo.expiresAt };
}

/** The error of a refused login: which check failed, by Anaplan's status code, never its text. */
async function refusal(config: AnaplanConfig, response: HttpResponse): Promise<PerimeterError> {
  const endpoint = AUTH_ENDPOINTS.authenticate;
  const status = await response
    .json(AuthFailureSchema)
    .then((body) => body.status)
    .catch((error: unknown) => {
      if (isPerimeterError(error, 'SOURCE_RESPONSE_INVALID')) return undefined;
      throw error;
    });
  const what =
    config.authMode === 'basic'
      ? 'the user name and password check failed'
      : response.status === 400
        ? 'the CACertificate header check failed'
        : 'the certificate check failed: the key pair matched, so Anaplan does not trust this certificate for a user or refused its signed data';
  return new PerimeterError(
    'SOURCE_AUTH_FAILED',
    `Anaplan refused the login: ${what} (${endpoint} answered ${response.status}${status === undefined ? '' : ` ${status}`}). ${credentialHint(config)}`,
    { context: { endpoint, status: response.status, authMode: config.authMode } },
  );
}

function credentialHint(config: AnaplanConfig): string {
  return config.authMode === 'basic'
    ? 'Check that the referenced secrets hold the user name and current password of an Anaplan user.'
    : 'Check that the referenced certificate is the one registered for the Anaplan user (Administration → Security → Certificates).';
}
