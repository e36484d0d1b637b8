import type { ServerResponse } from 'node:http';
import type { SimulatedTenant } from './tenant.ts';

/** Page-size caps per endpoint ("per OpenAPI caps"); a larger `limit` is clamped silently. */
export const PAGE_CAPS = { datastores: 1000, issues: 100, identities: 100 } as const;

/** Answers JSON. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Answers `{message}`, the error shape Cyera clients read. */
export function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ message });
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(body);
}

/** One page of the `{limit, offset, total, results}` envelope; records made on demand. */
export function sendPage(
  response: ServerResponse,
  query: URLSearchParams,
  cap: number,
  total: number,
  record: (index: number) => unknown,
): void {
  const limit = Math.min(cap, positiveInt(query.get('limit')) ?? cap);
  const offset = positiveInt(query.get('offset')) ?? 0;
  const results: unknown[] = [];
  for (let index = offset; index < Math.min(total, offset + limit); index += 1) {
    results.push(record(index));
  }
  sendJson(response, 200, { limit, offset, total, results });
}

function positiveInt(text: string | null): number | undefined {
  const value = Number(text ?? Number.NaN);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** The data routes of the simulator. Returns false when no route matches. */
export function routeList(
  tenant: SimulatedTenant,
  path: string,
  query: URLSearchParams,
  response: ServerResponse,
): boolean {
  const { size } = tenant;
  if (path === '/v2/datastores') {
    sendPage(response, query, PAGE_CAPS.datastores, size.datastores, (i) => tenant.datastore(i));
    return true;
  }
  if (path === '/v3/issues') {
    const total = size.datastores * size.issuesPerDatastore;
    sendPage(response, query, PAGE_CAPS.issues, total, (k) => tenant.issue(k));
    return true;
  }
  const identities = /^\/v1\/datastores\/([^/]+)\/identities$/.exec(path);
  if (identities?.[1] !== undefined) {
    const ds = tenant.datastoreIndexOf(decodeURIComponent(identities[1]));
    if (ds === undefined) {
      sendError(response, 404, 'Datastore not found');
    } else {
      const total = size.identitiesPerDatastore;
      sendPage(response, query, PAGE_CAPS.identities, total, (j) => tenant.identity(ds, j));
    }
    return true;
  }
  return false;
}
