import type { Asset, JsonObject, JsonValue, Relationship } from '../../agent/plugin-api/index.ts';

// Qualified names and the asset types of the Cyral connector. Every segment that names an object
// is its id (display names repeat in real tenants); fixed segments (`sidecars`, `repos`, `data`,
// ...) keep kinds apart, so a schema called `accounts` cannot collide with the accounts of its
// repository.

/** Asset types this connector emits. */
export const CYRAL_TYPES = {
  controlPlane: 'CyralControlPlane',
  sidecar: 'CyralSidecar',
  listener: 'CyralListener',
  binding: 'CyralBinding',
  repository: 'CyralRepository',
  schema: 'CyralSchema',
  table: 'CyralTable',
  column: 'CyralColumn',
  dataLabel: 'CyralDataLabel',
  userAccount: 'CyralUserAccount',
  accessRule: 'CyralAccessRule',
  policy: 'CyralPolicy',
  role: 'CyralRole',
  ssoGroupMapping: 'CyralSsoGroupMapping',
  integration: 'CyralIntegration',
} as const;

/** Suffix of the tag a data label becomes on a column. */
export const DATA_LABEL_TAG_SUFFIX = ' (Cyral Data Label)';

/**
 * `cyral/<tenant>/<segments...>`. A `/` or `%` inside a segment is percent-encoded, so a table
 * named `ORDERS/2024` keeps the hierarchy unambiguous.
 */
export function qualifiedName(tenant: string, ...segments: readonly string[]): string {
  return ['cyral', tenant, ...segments.map(escapeSegment)].join('/');
}

function escapeSegment(segment: string): string {
  if (!segment.includes('%') && !segment.includes('/')) {
    return segment;
  }
  return segment.replaceAll('%', '%25').replaceAll('/', '%2F');
}

/** The qualified names of each kind, from ids only. */
export const qn = {
  controlPlane: (tenant: string): string => qualifiedName(tenant),
  sidecar: (tenant: string, sidecarId: string): string =>
    qualifiedName(tenant, 'sidecars', sidecarId),
  listener: (tenant: string, sidecarId: string, listenerId: string): string =>
    qualifiedName(tenant, 'sidecars', sidecarId, 'listeners', listenerId),
  binding: (tenant: string, sidecarId: string, bindingId: string): string =>
    qualifiedName(tenant, 'sidecars', sidecarId, 'bindings', bindingId),
  repository: (tenant: string, repoId: string): string => qualifiedName(tenant, 'repos', repoId),
  dataLabel: (tenant: string, label: string): string => qualifiedName(tenant, 'labels', label),
  userAccount: (tenant: string, repoId: string, accountId: string): string =>
    qualifiedName(tenant, 'repos', repoId, 'accounts', accountId),
  legacyPolicy: (tenant: string, policyId: string): string =>
    qualifiedName(tenant, 'policies', 'v1', policyId),
  policyV2: (tenant: string, policyType: string, policyId: string): string =>
    qualifiedName(tenant, 'policies', 'v2', policyType, policyId),
  role: (tenant: string, roleId: string): string => qualifiedName(tenant, 'roles', roleId),
  integration: (tenant: string, category: string, integrationId: string): string =>
    qualifiedName(tenant, 'integrations', category, integrationId),
};

/** The path under a repository where its data-map schemas live. */
export function dataMapRoot(tenant: string, repoId: string): string {
  return qualifiedName(tenant, 'repos', repoId, 'data');
}

/** Appends escaped segments to a qualified name. */
export function child(parent: string, ...segments: readonly string[]): string {
  let name = parent;
  for (const segment of segments) {
    name = `${name}/${escapeSegment(segment)}`;
  }
  return name;
}

/** Drops null, undefined and empty-list values, so attributes hold only what the source said. */
export function compact(values: Record<string, JsonValue | undefined>): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(values)) {
    if (value != null && !(Array.isArray(value) && value.length === 0)) {
      result[key] = value;
    }
  }
  return result;
}

/** The asset with its relationships, or as it is when there are none. */
export function withRelationships(asset: Asset, relationships: readonly Relationship[]): Asset {
  return relationships.length === 0 ? asset : { ...asset, relationships: [...relationships] };
}
