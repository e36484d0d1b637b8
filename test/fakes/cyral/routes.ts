import {
  label,
  legacyPolicy,
  legacyPolicyIds,
  legacyPolicyIndex,
  loggingIntegrations,
  permissions,
  policiesV2,
  roles,
  ssoIntegrations,
} from './governance.ts';
import type { CyralTenant } from './tenant.ts';

// The read routes of the Cyral simulator, with the exact wrapper keys of each endpoint: a bare
// array for `/v1/sidecars`, `{repos: [{id, repo}]}`, `{labels}`, `{Policies}` (capital P),
// `{listenerConfigs}`. What a path names but the tenant lacks answers NotFound, in the words the
// control plane uses (`NotFound`, `policy not found`), with the status the test chose.

/** A route's answer: a body, or a NotFound in the endpoint's words. */
export type RouteAnswer =
  | { readonly kind: 'json'; readonly body: unknown }
  | { readonly kind: 'notFound'; readonly message: string };

/** What a route gets. */
export interface RouteRequest {
  readonly tenant: CyralTenant;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  /** Largest page the filter endpoint serves. */
  readonly maxPageSize: number;
  /** Whether `/v2/policies/{type}` is served (control planes that moved it to gRPC do not). */
  readonly servesPoliciesV2: boolean;
}

type Route = readonly [
  method: 'GET' | 'POST',
  pattern: RegExp,
  answer: (r: RouteRequest) => RouteAnswer,
];

const json = (body: unknown): RouteAnswer => ({ kind: 'json', body });
const notFound = (message: string): RouteAnswer => ({ kind: 'notFound', message });

/** Looks an indexed object up by the id in `params[at]`, or answers NotFound. */
function withIndex(
  lookup: (tenant: CyralTenant, id: string) => number | undefined,
  what: string,
  answer: (r: RouteRequest, index: number) => RouteAnswer,
  at = 0,
): (r: RouteRequest) => RouteAnswer {
  return (request) => {
    const index = lookup(request.tenant, request.params[at] ?? '');
    return index === undefined ? notFound(`NotFound: ${what}`) : answer(request, index);
  };
}

const sidecar = (
  answer: (r: RouteRequest, s: number) => RouteAnswer,
): ((r: RouteRequest) => RouteAnswer) =>
  withIndex((t, id) => t.sidecarIndex(id), 'sidecar not found', answer);
const repo = (
  answer: (r: RouteRequest, r2: number) => RouteAnswer,
): ((r: RouteRequest) => RouteAnswer) =>
  withIndex((t, id) => t.repoIndex(id), 'repository not found', answer);

const ID = '([^/]+)';

const ROUTES: readonly Route[] = [
  [
    'GET',
    /^\/v1\/systemInfo$/,
    () => json({ controlPlaneVersion: 'v4.18.2', sidecarLatestVersion: 'v4.18.1' }),
  ],
  [
    'GET',
    /^\/v1\/sidecars$/,
    ({ tenant }) =>
      json(
        range(tenant.size.sidecars).map((s) => ({
          id: tenant.sidecarId(s),
          sidecar: tenant.sidecar(s),
        })),
      ),
  ],
  [
    'GET',
    new RegExp(`^/v2/sidecars/${ID}$`),
    sidecar(({ tenant }, s) =>
      json({ sidecar: { ...tenant.sidecar(s), version: `v4.1${s % 9}.0` } }),
    ),
  ],
  [
    'GET',
    new RegExp(`^/v2/sidecars/${ID}/health$`),
    sidecar((_, s) => json({ status: s % 4 === 3 ? 'DEGRADED' : 'HEALTHY' })),
  ],
  [
    'GET',
    new RegExp(`^/v2/sidecars/${ID}/instances$`),
    sidecar(({ tenant }, s) => json({ instances: range(2).map((i) => instance(tenant, s, i)) })),
  ],
  [
    'GET',
    new RegExp(`^/v1/sidecars/${ID}/listeners$`),
    sidecar(({ tenant }, s) =>
      json({
        listenerConfigs: range(tenant.size.listenersPerSidecar).map((l) => tenant.listener(s, l)),
      }),
    ),
  ],
  [
    'GET',
    new RegExp(`^/v1/sidecars/${ID}/bindings/${ID}$`),
    sidecar(({ tenant, params }, s) => {
      const r = tenant.boundRepos(s).find((index) => tenant.bindingId(index) === params[1]);
      return r === undefined
        ? notFound('NotFound: binding not found')
        : json({ binding: tenant.binding(r) });
    }),
  ],
  ['POST', new RegExp(`^/v1/sidecars/${ID}/composedBindings/filter$`), sidecar(composedBindings)],
  [
    'GET',
    /^\/v1\/repos$/,
    ({ tenant }) =>
      json({
        repos: range(tenant.size.repos).map((r) => ({
          id: tenant.repoId(r),
          repo: tenant.repo(r),
        })),
      }),
  ],
  ['GET', new RegExp(`^/v1/repos/${ID}$`), repo(({ tenant }, r) => json({ repo: tenant.repo(r) }))],
  [
    'GET',
    new RegExp(`^/v1/repos/${ID}/datamap$`),
    repo(({ tenant }, r) => json(tenant.dataMap(r))),
  ],
  [
    'GET',
    new RegExp(`^/v1/repos/${ID}/conf/auth$`),
    repo(({ tenant }, r) => json(tenant.authInfo(r))),
  ],
  [
    'GET',
    new RegExp(`^/v1/repos/${ID}/conf/analysis$`),
    repo(({ tenant }, r) => json(tenant.analysis(r))),
  ],
  [
    'GET',
    new RegExp(`^/v1/repos/${ID}/networkAccessPolicy$`),
    repo(({ tenant }, r) => json(tenant.networkAccessPolicy(r))),
  ],
  [
    'GET',
    new RegExp(`^/v1/repos/${ID}/accessGateway$`),
    repo(({ tenant }, r) =>
      tenant.isBound(r)
        ? json({
            accessGateway: {
              sidecarId: tenant.sidecarId(tenant.sidecarOf(r)),
              bindingId: tenant.bindingId(r),
            },
          })
        : notFound(`NotFound: no access gateway for repository ${tenant.repoId(r)}`),
    ),
  ],
  [
    'GET',
    new RegExp(`^/v1/repos/${ID}/userAccounts$`),
    repo(({ tenant }, r) =>
      json({
        userAccounts: range(tenant.size.accountsPerRepo).map((a) => tenant.userAccount(r, a)),
      }),
    ),
  ],
  [
    'GET',
    new RegExp(`^/v1/repos/${ID}/userAccounts/${ID}/accessRules$`),
    repo(({ tenant, params }, r) => {
      const a = range(tenant.size.accountsPerRepo).find(
        (index) => tenant.accountId(r, index) === params[1],
      );
      return a === undefined
        ? notFound('NotFound: user account not found')
        : json(tenant.accessRules(r, a));
    }),
  ],
  [
    'GET',
    /^\/v1\/datalabels$/,
    ({ tenant }) => json({ labels: range(tenant.size.labels).map((k) => label(tenant, k)) }),
  ],
  ['GET', /^\/v1\/policies$/, ({ tenant }) => json({ Policies: legacyPolicyIds(tenant) })],
  [
    'GET',
    new RegExp(`^/v1/policies/${ID}$`),
    ({ tenant, params }) => {
      const p = legacyPolicyIndex(tenant, params[0] ?? '');
      return p === undefined ? notFound('policy not found') : json(legacyPolicy(tenant, p));
    },
  ],
  [
    'GET',
    /^\/v2\/policies\/(local|global|approval)$/,
    ({ tenant, params, servesPoliciesV2 }) =>
      servesPoliciesV2
        ? json({ policies: policiesV2(tenant, params[0] ?? '') })
        : notFound('NotFound: not served'),
  ],
  ['GET', /^\/v1\/users\/groups$/, ({ tenant }) => json(roles(tenant))],
  ['GET', /^\/v1\/users\/roles$/, ({ tenant }) => json(permissions(tenant))],
  ['GET', /^\/v1\/integrations\/logging$/, ({ tenant }) => json(loggingIntegrations(tenant))],
  ['GET', /^\/v1\/integrations\/generic-saml\/sso$/, ({ tenant }) => json(ssoIntegrations(tenant))],
];

/** Paths a metadata connector must never call, even with GET (activity logs, access tokens). */
export const FORBIDDEN_PATHS: readonly RegExp[] = [
  /^\/v1\/auditlog\//,
  /^\/v1\/accessTokens(\/|$)/,
];

/** Answers a request, or undefined when no route matches. */
export function route(
  method: string,
  path: string,
  request: Omit<RouteRequest, 'params'>,
): RouteAnswer | undefined {
  for (const [routeMethod, pattern, answer] of ROUTES) {
    const match = routeMethod === method ? pattern.exec(path) : null;
    if (match !== null) {
      return answer({ ...request, params: match.slice(1).map((p) => decodeURIComponent(p)) });
    }
  }
  return undefined;
}

/** One page of a sidecar's bindings, after `pageAfter`, at most `pageSize` (capped). */
function composedBindings({ tenant, query, maxPageSize }: RouteRequest, s: number): RouteAnswer {
  const bound = tenant
    .boundRepos(s)
    .map((r) => ({ r, id: tenant.bindingId(r) }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const after = query.get('pageAfter');
  const start = after === null ? 0 : bound.findIndex((b) => b.id > after);
  const requested = Number(query.get('pageSize') ?? 100);
  const size = Math.min(
    maxPageSize,
    Number.isInteger(requested) && requested > 0 ? requested : 100,
  );
  const page = start < 0 ? [] : bound.slice(start, start + size);
  return json({
    composedBindings: page.map(({ r }) => ({
      binding: tenant.binding(r),
      listeners: [
        tenant.listener(tenant.sidecarOf(r), r % Math.max(1, tenant.size.listenersPerSidecar)),
      ],
    })),
    totalCount: bound.length,
  });
}

function instance(tenant: CyralTenant, s: number, i: number): Record<string, unknown> {
  return {
    id: tenant.id('instance', s, i),
    metadata: {
      version: `v4.1${s % 9}.0`,
      isDynamicVersion: false,
      capabilities: { recyclable: true },
      startTimestamp: '2025-06-01T00:00:00Z',
      lastRegistration: '2025-06-02T00:00:00Z',
      isRecycling: false,
    },
    monitoring: {
      status: 'HEALTHY',
      services: { dispatcher: { status: 'HEALTHY', metricsPort: 9000, host: `10.0.${s}.${i}` } },
    },
  };
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
