import type { CyralTenant } from './tenant.ts';

/** How many assets of each type an extract of the whole simulated tenant yields. */
export function expectedCyralAssets(
  tenant: CyralTenant,
  options: { readonly policiesV2Served?: boolean } = {},
): Record<string, number> {
  const size = tenant.size;
  const bound = Array.from({ length: size.repos }, (_, r) => r).filter((r) => tenant.isBound(r));
  const tables = size.repos * size.schemasPerRepo * size.tablesPerSchema;
  const mapped = size.labels > 0 && size.columnsPerTable > 0 ? 1 : 0;
  const counts: Record<string, number> = {
    CyralControlPlane: 1,
    CyralDataLabel: size.labels,
    CyralRole: size.roles,
    CyralSsoGroupMapping: size.roles,
    CyralIntegration: size.loggingIntegrations + size.ssoIntegrations,
    CyralPolicy:
      size.legacyPolicies + (options.policiesV2Served === false ? 0 : 3 * size.policiesV2),
    CyralSidecar: size.sidecars,
    CyralListener: size.sidecars * size.listenersPerSidecar,
    CyralBinding: bound.length,
    CyralRepository: size.repos,
    CyralSchema: mapped * size.repos * size.schemasPerRepo * (size.tablesPerSchema > 0 ? 1 : 0),
    CyralTable: mapped * tables,
    CyralColumn: mapped * tables * size.columnsPerTable,
    CyralUserAccount: size.repos * size.accountsPerRepo,
    CyralAccessRule: size.repos * size.accountsPerRepo * size.rulesPerAccount,
  };
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0));
}

/** The skips an extract of the whole tenant records: unbound gateways and stale policy ids. */
export function expectedSkips(tenant: CyralTenant): Record<string, number> {
  const unbound = Array.from({ length: tenant.size.repos }, (_, r) => r).filter(
    (r) => !tenant.isBound(r),
  ).length;
  const skips: Record<string, number> = {
    accessGateway: unbound,
    CyralPolicy: tenant.size.stalePolicies,
  };
  return Object.fromEntries(Object.entries(skips).filter(([, count]) => count > 0));
}

/** The sum of a count record. */
export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
