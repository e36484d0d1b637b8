import { X509Certificate, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnaplanFaults, AnaplanSimulatorStats, TokenStore } from './control.ts';
import { TOKEN_LIFETIME_MS } from './control.ts';
import { readBody, sendJson } from './wire.ts';

// The authentication host: Basic and CA-certificate logins (the signature really verified with
// the certificate's public key), refresh and logout.

/** v2 signed data starts with a Unix time; logins further than this from now are refused. */
export const MAX_TIMESTAMP_SKEW_MS = 5 * 60_000;

/** What the auth host knows. */
export interface AuthState {
  readonly users: ReadonlyMap<string, string>;
  /** SHA-256 fingerprints of the certificates registered for a user. */
  readonly trustedCertificates: ReadonlySet<string>;
  readonly seenNonces: Set<string>;
  readonly faults: AnaplanFaults;
  readonly tokens: TokenStore;
  readonly stats: AnaplanSimulatorStats;
  readonly now: () => number;
}

/** Handles one request to the auth host. */
export async function handleAuth(
  state: AuthState,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): Promise<void> {
  const method = request.method ?? 'GET';
  const body = await readBody(request);
  if (method === 'POST' && path === '/token/authenticate') {
    authenticate(state, request.headers.authorization ?? '', body, response);
  } else if (method === 'POST' && path === '/token/refresh') {
    refresh(state, request.headers.authorization, response);
  } else if (method === 'POST' && path === '/token/logout') {
    logout(state, request.headers.authorization, response);
  } else {
    sendJson(response, 404, { status: 'FAILURE', statusMessage: 'Not found' });
  }
}

function authenticate(
  state: AuthState,
  authorization: string,
  body: Buffer,
  response: ServerResponse,
): void {
  const [scheme = '', value = ''] = authorization.split(' ', 2);
  const refusal = state.faults.rejectCredentials
    ? { status: 401, reason: 'credentials rejected' }
    : scheme === 'Basic'
      ? checkBasic(state, value)
      : scheme === 'CACertificate'
        ? checkCertificate(state, value, body)
        : { status: 400, reason: 'authorization scheme' };
  if (refusal !== undefined) {
    state.stats.refusedLogins.push(refusal.reason);
    const status = refusal.status === 400 ? 'FAILURE_BAD_HEADER' : 'FAILURE_BAD_CREDENTIAL';
    sendJson(response, refusal.status, {
      status,
      statusMessage: `Login refused: ${refusal.reason}`,
    });
    return;
  }
  state.stats.logins += 1;
  if (scheme === 'Basic') state.stats.basicLogins += 1;
  else state.stats.certificateLogins += 1;
  const tokenInfo = state.tokens.issue(state.faults.tokenLifetimeMs ?? TOKEN_LIFETIME_MS);
  sendJson(response, 201, {
    meta: { validationUrl: 'https://auth.anaplan.com/token/validate' },
    status: 'SUCCESS',
    statusMessage: 'Login successful',
    tokenInfo,
  });
}

interface Refusal {
  readonly status: number;
  readonly reason: string;
}

function checkBasic(state: AuthState, value: string): Refusal | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, Math.max(0, colon));
  const password = state.users.get(user);
  if (colon < 0 || password === undefined) {
    return { status: 401, reason: 'unknown user' };
  }
  return password === decoded.slice(colon + 1) ? undefined : { status: 401, reason: 'password' };
}

/** The checks Anaplan makes, in order: certificate, trust, signature, data format, replay. */
function checkCertificate(state: AuthState, value: string, body: Buffer): Refusal | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return { status: 400, reason: 'certificate header' };
  }
  if (!state.trustedCertificates.has(certificate.fingerprint256)) {
    return { status: 401, reason: 'untrusted certificate' };
  }
  const nowMs = state.now();
  if (nowMs < Date.parse(certificate.validFrom) || nowMs > Date.parse(certificate.validTo)) {
    return { status: 401, reason: 'certificate validity' };
  }
  const payload = parsePayload(body);
  if (payload === undefined) {
    return { status: 400, reason: 'body' };
  }
  if (!verify('sha512', payload.data, certificate.publicKey, payload.signature)) {
    return { status: 401, reason: 'signature' };
  }
  const formatProblem = checkFormat(payload, nowMs);
  if (formatProblem !== undefined) {
    return { status: 401, reason: formatProblem };
  }
  if (state.seenNonces.has(payload.encodedData)) {
    return { status: 401, reason: 'replayed nonce' };
  }
  state.seenNonces.add(payload.encodedData);
  return undefined;
}

interface Payload {
  readonly format: 'v1' | 'v2';
  readonly encodedData: string;
  readonly data: Buffer;
  readonly signature: Buffer;
}

function parsePayload(body: Buffer): Payload | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const { encodedData, encodedSignedData, encodedDataFormat } = json;
    if (typeof encodedData !== 'string' || typeof encodedSignedData !== 'string') {
      return undefined;
    }
    if (encodedDataFormat !== undefined && encodedDataFormat !== 'v2') {
      return undefined;
    }
    return {
      format: encodedDataFormat === 'v2' ? 'v2' : 'v1',
      encodedData,
      data: Buffer.from(encodedData, 'base64'),
      signature: Buffer.from(encodedSignedData, 'base64'),
    };
  } catch {
    return undefined;
  }
}

/** v1: 64–200 random bytes. v2: an 8-byte big-endian time (seconds or ms) within the skew. */
function checkFormat(payload: Payload, nowMs: number): string | undefined {
  const prefix = payload.format === 'v2' ? 8 : 0;
  const randomBytes = payload.data.length - prefix;
  if (randomBytes < 64 || randomBytes > 200) {
    return 'nonce length';
  }
  if (payload.format === 'v1') {
    return undefined;
  }
  const stamp = Number(payload.data.readBigUInt64BE(0));
  // The unit of Anaplan's timestamp is not documented: seconds and milliseconds are both read.
  const stampMs = stamp < 100_000_000_000 ? stamp * 1000 : stamp;
  return Math.abs(nowMs - stampMs) <= MAX_TIMESTAMP_SKEW_MS ? undefined : 'timestamp skew';
}

function refresh(
  state: AuthState,
  authorization: string | undefined,
  response: ServerResponse,
): void {
  if (authorization?.startsWith('Bearer ') === true) {
    sendJson(response, 400, { status: 'FAILURE_BAD_HEADER', statusMessage: 'Invalid header' });
    return;
  }
  const { check, value } = state.tokens.check(authorization);
  const tokenInfo =
    check === 'ok' && value !== undefined
      ? state.tokens.refresh(value, state.faults.tokenLifetimeMs ?? TOKEN_LIFETIME_MS)
      : undefined;
  if (tokenInfo === undefined) {
    sendJson(response, 401, { status: 'FAILURE_BAD_CREDENTIAL', statusMessage: 'Invalid token' });
    return;
  }
  state.stats.refreshes += 1;
  sendJson(response, 200, { status: 'SUCCESS', statusMessage: 'Token refreshed', tokenInfo });
}

function logout(
  state: AuthState,
  authorization: string | undefined,
  response: ServerResponse,
): void {
  const { check, value } = state.tokens.check(authorization);
  if ((check !== 'ok' && check !== 'expired') || value === undefined) {
    sendJson(response, 401, { status: 'FAILURE_BAD_CREDENTIAL', statusMessage: 'Invalid token' });
    return;
  }
  state.tokens.revoke(value);
  state.stats.logouts += 1;
  response.writeHead(204).end();
}
