import type { Redactor } from '../logging/redactor.ts';

/** Headers whose whole value is a credential: registered for redaction, dropped on a cross-origin redirect. */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'cookie',
];

/**
 * Registers every credential the client is about to send with the log redactor: the whole
 * header value, the credential after the scheme word (`Bearer x` → `x`) and, for Basic, the
 * decoded `user:pass` and the password alone, since a library error may quote any of them.
 * `headers` has lower-case names.
 */
export function registerCredentialHeaders(
  redactor: Redactor,
  headers: Readonly<Record<string, string>>,
): void {
  for (const name of CREDENTIAL_HEADERS) {
    const value = headers[name];
    if (value !== undefined) {
      redactor.add(value);
      if (name.endsWith('authorization')) {
        registerAuthorization(redactor, value);
      }
    }
  }
}

/** Registers the password (and `user:pass`) of a proxy URL such as `http://u:p@proxy:3128`. */
export function registerProxyCredentials(redactor: Redactor, proxyUrl: string | undefined): void {
  if (proxyUrl === undefined || !URL.canParse(proxyUrl)) {
    return;
  }
  const { username, password } = new URL(proxyUrl);
  if (password !== '') {
    const user = decodeURIComponent(username);
    const secret = decodeURIComponent(password);
    // Agent settings, not a run's: held for the agent's lifetime.
    redactor.addLasting(secret);
    redactor.addLasting(`${user}:${secret}`);
  }
}

function registerAuthorization(redactor: Redactor, value: string): void {
  const match = /^(\S+)\s+(.+)$/.exec(value.trim());
  if (match === null) {
    return;
  }
  const [, scheme = '', credential = ''] = match;
  redactor.add(credential);
  if (scheme.toLowerCase() !== 'basic') {
    return;
  }
  const decoded = Buffer.from(credential, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon !== -1) {
    redactor.add(decoded);
    redactor.add(decoded.slice(colon + 1));
  }
}
