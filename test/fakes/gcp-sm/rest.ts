import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readBody, sendJson } from '../../helpers/fake-server.ts';
import { CLOUD_PLATFORM } from './identity.ts';
import type { FakeSecretManagerState } from './state.ts';

/** Token-side calls the fake served: STS exchanges and impersonations (accepted or refused). */
export interface AuthCallCounts {
  sts: number;
  impersonations: number;
}

const ACCESS_PATH = /^\/v1\/(projects\/.+\/versions\/[^/:]+):access$/;
const IMPERSONATE_PATH = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/;
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

function handleAccess(
  state: FakeSecretManagerState,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  location: string,
): void {
  const result = state.access(name, req.headers.authorization, location, 'rest');
  if (!result.ok) {
    const { httpStatus, message, status } = result.error;
    sendJson(res, httpStatus, { error: { code: httpStatus, message, status, details: [] } });
    return;
  }
  const payload = {
    data: result.data.toString('base64'),
    ...(result.crc32c === undefined ? {} : { dataCrc32c: result.crc32c }),
  };
  sendJson(res, 200, { name: result.name, payload });
}

// Google STS (RFC 8693): the workload's subject token for a federated access token.
function handleSts(
  state: FakeSecretManagerState,
  res: ServerResponse,
  body: string,
  audience: string,
): void {
  const form = new URLSearchParams(body);
  const valid =
    form.get('grant_type') === TOKEN_EXCHANGE &&
    form.get('audience') === audience &&
    (form.get('scope') ?? '').split(' ').includes(CLOUD_PLATFORM) &&
    state.identity.isTrustedSubjectToken(form.get('subject_token') ?? '');
  if (!valid) {
    sendJson(res, 400, {
      error: 'invalid_grant',
      error_description: 'The subject token is invalid.',
    });
    return;
  }
  const issued = state.identity.issue({ email: `principal://${audience}`, via: 'federated' });
  sendJson(res, 200, {
    access_token: issued.token,
    issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    token_type: 'Bearer',
    expires_in: state.identity.tokenTtlSeconds,
  });
}

// IAM Credentials generateAccessToken: a federated principal impersonates a service account.
function handleImpersonation(
  state: FakeSecretManagerState,
  req: IncomingMessage,
  res: ServerResponse,
  email: string,
): void {
  const caller = state.identity.verify(req.headers.authorization);
  if (caller?.via !== 'federated') {
    sendJson(res, 401, {
      error: {
        code: 401,
        message: 'Request had invalid authentication credentials.',
        status: 'UNAUTHENTICATED',
      },
    });
    return;
  }
  const issued = state.identity.issue({ email: decodeURIComponent(email), via: 'impersonated' });
  sendJson(res, 200, {
    accessToken: issued.token,
    expireTime: new Date(issued.expiresAtMs).toISOString(),
  });
}

/** Options of {@link createRestHandler}. */
export interface RestHandlerOptions {
  readonly state: FakeSecretManagerState;
  /** The location this endpoint serves ('' = the global endpoint). */
  readonly location: string;
  /** The workload identity provider audience STS accepts. */
  readonly audience: string;
  readonly counts: AuthCallCounts;
  /** Aborted when the fake closes, so held requests end. */
  readonly shutdown: AbortSignal;
}

/**
 * The Secret Manager REST front end plus Google's STS and IAM Credentials token calls (a held
 * request ended by the fake's close rejects: 500).
 */
export function createRestHandler(
  options: RestHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { state, counts } = options;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://fake').pathname);
    const access = ACCESS_PATH.exec(path);
    if (req.method === 'GET' && access !== null) {
      if (state.delayMs > 0) {
        state.held += 1;
        try {
          await sleep(state.delayMs, undefined, { signal: options.shutdown });
        } finally {
          state.held -= 1;
        }
      }
      handleAccess(state, req, res, access[1]!, options.location);
      return;
    }
    const body = (await readBody(req)).toString('utf8');
    if (req.method === 'POST' && path === '/v1/token') {
      counts.sts += 1;
      handleSts(state, res, body, options.audience);
      return;
    }
    const impersonate = IMPERSONATE_PATH.exec(path);
    if (req.method === 'POST' && impersonate !== null) {
      counts.impersonations += 1;
      handleImpersonation(state, req, res, impersonate[1]!);
      return;
    }
    sendJson(res, 404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
  };
}
