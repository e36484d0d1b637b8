import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readBody, sendJson } from '../../helpers/fake-server.ts';
import type { CyralFaults, CyralSimulatorStats, CyralTokens, TokenPolicy } from './control.ts';
import { FORBIDDEN_PATHS, route } from './routes.ts';
import type { CyralTenant } from './tenant.ts';

// Request handling of the Cyral simulator: the token endpoint, the read-only rule (GET, plus the
// filter POST that only reads), bearer checks, faults, then the routes.

/** Simulator state shared by the request handlers. */
export interface CyralSimulatorState {
  readonly tenant: CyralTenant;
  readonly clientId: string;
  /** The secret token requests must carry; a rotation changes it. */
  clientSecret: string;
  readonly faults: CyralFaults;
  readonly tokenPolicy: TokenPolicy;
  readonly tokens: CyralTokens;
  readonly stats: CyralSimulatorStats;
  readonly requests: string[];
  readonly targets: string[];
  readonly refused: string[];
  readonly forbidden: string[];
  servesPoliciesV2: boolean;
  /** Called on each data request before it is answered (a test's clock may advance here). */
  readonly onRequest: ((path: string) => void) | undefined;
  readonly closing: AbortController;
}

const TOKEN_PATH = '/v1/users/oidc/token';
const FILTER_PATH = /^\/v1\/sidecars\/[^/]+\/composedBindings\/filter$/;

/** Handles one request: records it, then the token endpoint, refusal, auth, faults or a route. */
export async function handleCyral(
  state: CyralSimulatorState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://simulator');
  const method = request.method ?? 'GET';
  state.requests.push(`${method} ${url.pathname}`);
  if (method === 'POST' && url.pathname === TOKEN_PATH) {
    await token(state, request, response);
    return;
  }
  await readBody(request);
  if (method === 'HEAD') {
    // `perimeter check` probes reach with HEAD: answered without a body, not refused.
    response.writeHead(404).end();
    return;
  }
  if (method !== 'GET' && !(method === 'POST' && FILTER_PATH.test(url.pathname))) {
    state.refused.push(`${method} ${url.pathname}`);
    sendError(response, 405, 'method not allowed');
    return;
  }
  if (FORBIDDEN_PATHS.some((path) => path.test(url.pathname))) {
    state.forbidden.push(`${method} ${url.pathname}`);
  }
  state.targets.push(`${method} ${url.pathname}${url.search}`);
  state.onRequest?.(url.pathname);
  if (!authorized(state, request, response) || refusedByFault(state, url.pathname, response)) {
    return;
  }
  if (state.faults.slowMs > 0) {
    await sleep(state.faults.slowMs, undefined, { signal: state.closing.signal }).catch(
      () => undefined,
    );
  }
  const answer = route(method, url.pathname, {
    tenant: state.tenant,
    query: url.searchParams,
    maxPageSize: state.faults.maxPageSize,
    servesPoliciesV2: state.servesPoliciesV2,
  });
  const drop = state.faults.takeDrop(url.pathname);
  if (drop !== undefined) {
    state.stats.droppedConnections += 1;
    cutConnection(response, drop, answer?.kind === 'json' ? answer.body : undefined);
    return;
  }
  if (answer === undefined) {
    sendError(response, 404, 'NotFound: no such endpoint');
  } else if (answer.kind === 'notFound') {
    state.stats.notFound += 1;
    sendError(response, state.faults.notFoundStatus, answer.message);
  } else {
    sendJson(response, 200, answer.body);
  }
}

/** Closes the connection before any answer, or after half of `body` (a 200 announced whole). */
function cutConnection(
  response: ServerResponse,
  when: 'before-answer' | 'mid-body',
  body: unknown,
): void {
  if (when === 'before-answer' || body === undefined) {
    response.socket?.destroy();
    return;
  }
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(bytes.length),
  });
  response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
    response.socket?.destroy();
  });
}

/** The error body of the simulator: `{message, status}`. */
function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  sendJson(response, status, { message, status }, headers);
}

/** `POST /v1/users/oidc/token`: client credentials (either spelling) or a refresh token. */
async function token(
  state: CyralSimulatorState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const form = new URLSearchParams((await readBody(request)).toString('utf8'));
  const snake = form.has('client_id');
  state.stats[snake ? 'snakeCaseGrants' : 'camelCaseGrants'] += 1;
  const clientId = form.get('client_id') ?? form.get('clientId');
  const clientSecret = form.get('client_secret') ?? form.get('clientSecret');
  const grant = form.get('grant_type');
  const clientOk =
    !state.faults.rejectCredentials &&
    clientId === state.clientId &&
    clientSecret === state.clientSecret;
  if (!clientOk) {
    state.stats.failedGrants += 1;
    sendJson(response, 401, {
      error: 'unauthorized_client',
      error_description: 'Invalid client or Invalid client credentials',
    });
    return;
  }
  if (grant === 'client_credentials') {
    state.stats.clientCredentialsGrants += 1;
    sendJson(response, 200, state.tokens.issue(state.tokenPolicy));
  } else if (grant === 'refresh_token') {
    const redeemed = state.tokens.redeem(form.get('refresh_token') ?? '');
    if (!redeemed || state.faults.refuseRefreshTokens) {
      state.stats.failedGrants += 1;
      sendJson(response, 400, {
        error: 'invalid_grant',
        error_description: 'Invalid refresh token',
      });
      return;
    }
    state.stats.refreshGrants += 1;
    sendJson(response, 200, state.tokens.issue(state.tokenPolicy));
  } else {
    state.stats.failedGrants += 1;
    sendJson(response, 400, { error: 'unsupported_grant_type' });
  }
}

function authorized(
  state: CyralSimulatorState,
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  const check = state.tokens.check(request.headers.authorization);
  const status = check === 'ok' ? state.faults.rejectTokens : 401;
  if (status === undefined) {
    return true;
  }
  state.stats.unauthorized += 1;
  if (check === 'expired') state.stats.expiredTokens += 1;
  if (check === 'lowercase') state.stats.lowercaseBearer += 1;
  const message =
    check === 'lowercase'
      ? "tokenstring should not contain 'bearer '"
      : check === 'expired'
        ? 'token is expired'
        : 'unauthorized';
  sendError(response, status, message);
  return false;
}

function refusedByFault(
  state: CyralSimulatorState,
  path: string,
  response: ServerResponse,
): boolean {
  const fault = state.faults.takeDataFault(path);
  if (fault === undefined) {
    return false;
  }
  if (fault.status === 429) {
    state.stats.rateLimited += 1;
    sendError(response, 429, 'too many requests', {
      'retry-after': String(fault.retryAfterSeconds ?? 1),
    });
  } else {
    state.stats.serverErrors += fault.status >= 500 ? 1 : 0;
    sendError(response, fault.status, fault.status >= 500 ? 'internal error' : 'forbidden');
  }
  return true;
}
