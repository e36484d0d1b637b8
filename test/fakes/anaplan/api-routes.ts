import type { ServerResponse } from 'node:http';
import { sendApiError, sendJson } from './wire.ts';
import type { ModelRef, SimulatedTenant } from './tenant.ts';

// The Integration API's routes (`/2/0/...`): the metadata endpoints, in both the model-direct
// and the workspace-prefixed form, and the data endpoints, which answer data and are recorded so
// a test fails if a metadata connector ever calls one.

/** Anaplan's default page size and hard cap. */
export const PAGE_CAP = 5000;

/**
 * Where the source ends its pages: the page of the listing at `path` that starts at `offset`
 * holds at most this many items (at least one), whatever `limit` asked.
 */
export type PageEnds = (path: string, offset: number) => number;

/** What a route may consult besides the tenant. */
export interface RouteContext {
  readonly tenant: SimulatedTenant;
  /** Pages end early (as where Anaplan truncates a `limit` silently); undefined: at `limit`. */
  readonly pageEnds: PageEnds | undefined;
  /** Not a workspace administrator: workspace detail 404, versions and calendar 403. */
  readonly nonAdmin: boolean;
  /** `GET /path` of every data endpoint called. */
  readonly dataCalls: string[];
}

const DATA_ROUTES = [
  /^lists\/[^/]+\/items$/,
  /^dimensions\/[^/]+\/items$/,
  /^views\/[^/]+\/data$/,
  /^views\/[^/]+\/dimensions\/[^/]+\/items$/,
  /^lineItems\/[^/]+\/dimensions\/[^/]+\/items$/,
  /^(files|exports|imports|processes|actions)(\/[^/]+)*$/,
  /^readRequests(\/[^/]+)*$/,
];

/** Answers one GET below `/2/0`. */
export function routeApi(
  ctx: RouteContext,
  path: string,
  query: URLSearchParams,
  response: ServerResponse,
): void {
  const rest = path.slice('/2/0/'.length);
  const { tenant } = ctx;
  const exchange = { path, query, response, pageEnds: ctx.pageEnds };
  const details = query.get('modelDetails') === 'true';
  const listed = /^(?:workspaces\/([^/]+)\/)?models$/.exec(rest);
  if (listed !== null) {
    const refs = tenant
      .modelRefs()
      .filter((ref) => listed[1] === undefined || tenant.workspaceId(ref.workspace) === listed[1]);
    sendPage(exchange, 'models', refs.length, (i) =>
      modelRecord(tenant, refs[i] ?? { workspace: 0, index: 0 }, details),
    );
    return;
  }
  const model = /^(?:workspaces\/([^/]+)\/)?models\/([^/]+)(?:\/(.+))?$/.exec(rest);
  if (model !== null) {
    routeModel(ctx, exchange, model[1], model[2] ?? '', model[3]);
    return;
  }
  if (rest === 'users/me') {
    sendJson(response, 200, {
      user: {
        id: '8a868cdb8b7841a2018bf2c183307cd7',
        active: true,
        customerId: '8a868cda8b7841a2018bf2c1832f0000',
      },
    });
  } else if (rest === 'workspaces') {
    sendPage(exchange, 'workspaces', tenant.size.workspaces, (w) => tenant.workspace(w));
  } else if (/^workspaces\/[^/]+$/.test(rest)) {
    const w = tenant.workspaceIndexOf(rest.slice('workspaces/'.length));
    if (w === undefined || ctx.nonAdmin) sendApiError(response, 404, path);
    else sendJson(response, 200, { workspace: tenant.workspace(w) });
  } else {
    sendApiError(response, 404, path);
  }
}

interface Exchange {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly response: ServerResponse;
  readonly pageEnds: PageEnds | undefined;
}

function routeModel(
  ctx: RouteContext,
  exchange: Exchange,
  workspaceId: string | undefined,
  modelId: string,
  resource: string | undefined,
): void {
  const { tenant } = ctx;
  const { path, response } = exchange;
  if (resource === undefined && workspaceId !== undefined && modelId !== '') {
    // `GET /workspaces/{w}/models/{m}` is not a route in Anaplan.
    sendApiError(response, 405, path);
    return;
  }
  if (resource === undefined && modelId !== '' && workspaceId === undefined) {
    const ref = tenant.modelRefOf(decodeURIComponent(modelId));
    if (ref === undefined) sendApiError(response, 404, path);
    else sendJson(response, 200, { model: modelRecord(tenant, ref, true) });
    return;
  }
  const ref = tenant.modelRefOf(decodeURIComponent(modelId));
  const inWorkspace =
    workspaceId === undefined ||
    (ref !== undefined && tenant.workspaceId(ref.workspace) === workspaceId);
  if (ref === undefined || !inWorkspace || tenant.isForbidden(ref) || resource === undefined) {
    // No access looks like no model: 404, never 403.
    sendApiError(response, 404, path);
    return;
  }
  if (DATA_ROUTES.some((route) => route.test(resource))) {
    ctx.dataCalls.push(`GET ${path}`);
    sendJson(response, 200, {
      items: [{ id: '1', name: 'Northern Region', code: 'N', properties: { Revenue: 1_250_000 } }],
    });
    return;
  }
  routeModelMetadata(ctx, exchange, resource);
}

function routeModelMetadata(ctx: RouteContext, exchange: Exchange, resource: string): void {
  const { tenant, nonAdmin } = ctx;
  const { path, query, response } = exchange;
  const full = query.get('includeAll') === 'true';
  const size = tenant.size;
  const listMeta = /^lists\/([^/]+)$/.exec(resource);
  const moduleScoped = /^modules\/([^/]+)\/(lineItems|views)$/.exec(resource);
  if (resource === 'modules') {
    sendPage(exchange, 'modules', size.modulesPerModel, (k) => tenant.module(k));
  } else if (resource === 'lineItems') {
    sendPage(exchange, 'items', tenant.lineItemCount(), (i) => lineItemView(tenant, i, full));
  } else if (resource === 'lists') {
    sendPage(exchange, 'lists', size.listsPerModel, (l) => tenant.list(l));
  } else if (listMeta?.[1] !== undefined) {
    const l = tenant.listIndexOf(listMeta[1]);
    if (l === undefined) sendApiError(response, 404, path);
    else sendJson(response, 200, { metadata: tenant.listMetadata(l) });
  } else if (resource === 'views') {
    sendPage(exchange, 'views', tenant.viewCount(), (v) => tenant.view(v));
  } else if (moduleScoped?.[1] !== undefined) {
    routeModuleScoped(ctx, exchange, moduleScoped[1], moduleScoped[2] === 'views', full);
  } else if (resource === 'versions' || resource === 'modelCalendar') {
    if (nonAdmin) sendApiError(response, 403, path);
    else if (resource === 'versions')
      sendPage(exchange, 'versionMetadata', 2, (v) => tenant.versions()[v]);
    else sendJson(response, 200, { modelCalendar: tenant.calendar() });
  } else if (resource === 'currentPeriod') {
    sendJson(response, 200, {
      currentPeriod: {
        periodText: 'Jun 25',
        lastDay: '2025-06-30',
        calendarType: 'Calendar Months/Quarters/Years',
      },
    });
  } else {
    sendApiError(response, 404, path);
  }
}

function routeModuleScoped(
  ctx: RouteContext,
  exchange: Exchange,
  moduleId: string,
  views: boolean,
  full: boolean,
): void {
  const { tenant } = ctx;
  const k = Array.from({ length: tenant.size.modulesPerModel }, (_, i) => i).find(
    (i) => tenant.moduleId(i) === moduleId,
  );
  if (k === undefined) {
    sendApiError(exchange.response, 404, exchange.path);
  } else if (views) {
    sendPage(exchange, 'views', 2, (v) => tenant.view(2 * k + v));
  } else {
    const per = tenant.size.lineItemsPerModule;
    sendPage(exchange, 'items', per, (i) => lineItemView(tenant, k * per + i, full));
  }
}

function lineItemView(tenant: SimulatedTenant, i: number, full: boolean): unknown {
  const item = tenant.lineItem(i);
  return full
    ? item
    : {
        moduleId: item['moduleId'],
        moduleName: item['moduleName'],
        id: item['id'],
        name: item['name'],
      };
}

/** A model as `/models?modelDetails=true` lists it: memory use only with details. */
export function modelRecord(tenant: SimulatedTenant, ref: ModelRef, details: boolean): unknown {
  const model = tenant.model(ref);
  if (!details) {
    delete model['memoryUsage'];
  }
  return model;
}

/**
 * One page of Anaplan's envelope: `meta.paging` with `next`/`previous` only when they exist,
 * the collection under `key`, omitted when the page is empty (as Anaplan omits empty lists).
 * The page ends at `limit`, or earlier where `pageEnds` says; `next` starts after its last item.
 */
function sendPage(
  exchange: Exchange,
  key: string,
  total: number,
  record: (index: number) => unknown,
): void {
  const { path, query, response, pageEnds } = exchange;
  const limit = Math.min(PAGE_CAP, positiveInt(query.get('limit')) ?? PAGE_CAP);
  const offset = positiveInt(query.get('offset')) ?? 0;
  const served =
    pageEnds === undefined ? limit : Math.max(1, Math.min(limit, pageEnds(path, offset)));
  const items: unknown[] = [];
  for (let index = offset; index < Math.min(total, offset + served); index += 1) {
    items.push(record(index));
  }
  const paging: Record<string, unknown> = {
    currentPageSize: items.length,
    totalSize: total,
    offset,
  };
  const nextOffset = offset + items.length;
  if (nextOffset < total) paging['next'] = `?limit=${limit}&offset=${nextOffset}`;
  if (offset > 0) paging['previous'] = `?limit=${limit}&offset=${Math.max(0, offset - limit)}`;
  sendJson(response, 200, {
    meta: { schema: `https://api.anaplan.com/2/0/objects/${key}`, paging },
    status: { code: 200, message: 'Success' },
    ...(items.length > 0 ? { [key]: items } : {}),
  });
}

function positiveInt(text: string | null): number | undefined {
  const value = Number(text ?? Number.NaN);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}
