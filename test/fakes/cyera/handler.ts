import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CyeraFaults, CyeraSimulatorStats, TokenStore } from './control.ts';
import { routeList, sendError, sendJson } from './routes.ts';
import type { CyeraSimulatorOptions } from './simulator.ts';
import { writeTableStream } from './table-stream.ts';
import type { StreamLayout } from './table-stream.ts';
import type { SimulatedTenant } from './tenant.ts';

// Request handling of the Cyera simulator: login, the read-only rule, bearer checks, faults,
// then the routes.

/** Simulator state shared by the request handlers. */
export interface SimulatorState {
  readonly options: CyeraSimulatorOptions;
  readonly tenant: SimulatedTenant;
  readonly clientId: string;
  readonly secret: string;
  readonly layout: StreamLayout;
  readonly faults: CyeraFaults;
  readonly tokens: TokenStore;
  readonly stats: CyeraSimulatorStats;
  readonly requests: string[];
  readonly targets: string[];
  readonly refused: string[];
  readonly closing: AbortController;
}

/** Handles one request: records it, then login, refusal, auth, faults or a route. */
export async function handle(
  state: SimulatorState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://simulator');
  const method = request.method ?? 'GET';
  state.requests.push(`${method} ${url.pathname}`);
  if (method === 'POST' && url.pathname === '/v1/login') {
    await login(state, request, response);
    return;
  }
  if (method === 'HEAD') {
    // A read (`perimeter check` probes reach with HEAD): answered without a body, not refused.
    request.resume();
    sendError(response, 404, 'Not found');
    return;
  }
  if (method !== 'GET') {
    // Read-only: the connector must never write. The test asserts this list stays empty.
    state.refused.push(`${method} ${url.pathname}`);
    request.resume();
    sendError(response, 405, 'Method not allowed');
    return;
  }
  state.targets.push(`${url.pathname}${url.search}`);
  if (!authorized(state, request, response) || refusedByFault(state, response)) {
    return;
  }
  if (state.faults.slowMs > 0 && url.pathname !== '/v1/tables/stream') {
    await sleep(state.faults.slowMs, undefined, { signal: state.closing.signal }).catch(
      () => undefined,
    );
  }
  if (url.pathname === '/v1/tables/stream') {
    await streamTables(state, url.searchParams, response);
  } else if (!routeList(state.tenant, url.pathname, url.searchParams, response)) {
    sendError(response, 404, 'Not found');
  }
}

async function login(
  state: SimulatorState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  let body: { clientId?: unknown; secret?: unknown } = {};
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
  } catch {
    sendError(response, 400, 'Invalid JSON body');
    return;
  }
  if (
    state.faults.rejectCredentials ||
    body.clientId !== state.clientId ||
    body.secret !== state.secret
  ) {
    state.stats.failedLogins += 1;
    sendError(response, 401, 'Invalid client id or secret');
    return;
  }
  state.stats.logins += 1;
  sendJson(response, 200, state.tokens.issue(state.options.expiresInSeconds ?? 86_400));
}

function authorized(
  state: SimulatorState,
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  const check = state.tokens.check(request.headers.authorization);
  const status = check === 'ok' ? state.faults.rejectTokens : 401;
  if (status === undefined) {
    return true;
  }
  state.stats.unauthorized += 1;
  sendError(response, status, check === 'expired' ? 'Token expired' : 'Unauthorized');
  return false;
}

function refusedByFault(state: SimulatorState, response: ServerResponse): boolean {
  const fault = state.faults.takeDataFault();
  if (fault === undefined) {
    return false;
  }
  if (fault.status === 429) {
    state.stats.rateLimited += 1;
    sendError(response, 429, 'Too many requests', {
      'retry-after': String(fault.retryAfterSeconds ?? 1),
    });
  } else {
    state.stats.serverErrors += 1;
    sendError(response, fault.status, 'Internal error');
  }
  return true;
}

async function streamTables(
  state: SimulatorState,
  query: URLSearchParams,
  response: ServerResponse,
): Promise<void> {
  const uids = query.getAll('datastoreUid');
  const indexes =
    uids.length === 0
      ? Array.from({ length: state.tenant.size.datastores }, (_, i) => i)
      : uids.map((uid) => state.tenant.datastoreIndexOf(uid));
  if (indexes.some((index) => index === undefined)) {
    sendError(response, 404, 'Datastore not found');
    return;
  }
  await writeTableStream(response, {
    tenant: state.tenant,
    datastoreIndexes: indexes as number[],
    layout: state.layout,
    faults: state.faults,
    tokens: state.tokens,
    stats: state.stats,
    signal: state.closing.signal,
  });
}
