import { checkBearerToken } from '../http/token-check.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { HttpClient, SecretValue } from '../plugin-api/index.ts';
import type { CatalogSettings } from './settings.ts';

/** The read-only call of the catalog protocol that checks the token. */
export const CATALOG_WHOAMI = 'GET /v1/whoami';

/**
 * Asks the catalog whether it accepts `catalog.token` (`GET {url}/v1/whoami`, no side effects).
 * A 401 or 403 throws SINK_REJECTED naming `catalog.token`; the token is never in the message.
 * Returns what an operator reads: accepted, or why the token could not be checked.
 */
export async function checkCatalogToken(options: {
  readonly http: HttpClient;
  readonly settings: Pick<CatalogSettings, 'url' | 'token'>;
  readonly token: SecretValue | undefined;
  readonly signal: AbortSignal;
}): Promise<string> {
  const { settings } = options;
  const verdict = await checkBearerToken({
    http: options.http,
    url: `${settings.url}/v1/whoami`,
    endpoint: CATALOG_WHOAMI,
    token: options.token,
    signal: options.signal,
  });
  const setting = settings.token === undefined ? 'catalog.token (not set)' : 'catalog.token';
  if (verdict.kind === 'refused') {
    throw new PerimeterError(
      'SINK_REJECTED',
      `The catalog refused the token of ${setting} (HTTP ${verdict.status}); every batch would fail. Check the secret ${settings.token === undefined ? 'the catalog expects and set catalog.token' : 'catalog.token refers to'}`,
      { context: { setting: 'catalog.token', status: verdict.status, refused: true } },
    );
  }
  if (verdict.kind === 'unchecked') {
    return `reachable, token not checked (${CATALOG_WHOAMI} answered HTTP ${verdict.status})`;
  }
  return settings.token === undefined
    ? 'accepted without a token (catalog.token not set)'
    : 'catalog.token accepted';
}
