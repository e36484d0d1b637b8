import type { SimulatedTenant } from './tenant.ts';

/** How many assets of each type an extract of the tenant (or some of its datastores) yields. */
export interface ExpectedCyeraAssets {
  readonly CyeraDatastore: number;
  readonly CyeraDatabase: number;
  readonly CyeraSchema: number;
  readonly CyeraTable: number;
  readonly CyeraColumn: number;
  readonly total: number;
}

/**
 * The expected counts, from the tenant's size: databases are those with tables plus those only
 * issues or identities name (they become assets too).
 */
export function expectedAssets(
  tenant: SimulatedTenant,
  datastoreIndexes: readonly number[] = allIndexes(tenant),
): ExpectedCyeraAssets {
  const { size } = tenant;
  const tables = tenant.tablesPerDatastore;
  const n = datastoreIndexes.length;
  const databases = n * databaseNames(tenant).size;
  const counts = {
    CyeraDatastore: n,
    CyeraDatabase: databases,
    CyeraSchema: tables > 0 ? n * size.databasesPerDatastore * size.schemasPerDatabase : 0,
    CyeraTable: n * tables,
    CyeraColumn: n * tables * size.columnsPerTable,
  };
  return { ...counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
}

/** Every database name an extract of one datastore should emit (the same in each). */
export function databaseNames(tenant: SimulatedTenant): Set<string> {
  const { size } = tenant;
  const names = new Set<string>();
  if (tenant.tablesPerDatastore > 0) {
    for (let d = 0; d < size.databasesPerDatastore; d += 1) {
      names.add(tenant.databaseName(d));
    }
  }
  for (let i = 0; i < size.issuesPerDatastore; i += 1) {
    const name = tenant.issueDatabase(i);
    if (name !== undefined) names.add(name);
  }
  for (let j = 0; j < size.identitiesPerDatastore; j += 1) {
    const name = tenant.identityDatabase(j);
    if (name !== undefined) names.add(name);
  }
  return names;
}

/** Indexes of every datastore, in listing order. */
export function allIndexes(tenant: SimulatedTenant): number[] {
  return Array.from({ length: tenant.size.datastores }, (_, i) => i);
}

/** Datastore indexes in the order an extract processes them (by uid). */
export function indexesByUid(tenant: SimulatedTenant): number[] {
  return allIndexes(tenant).sort((a, b) =>
    tenant.datastoreUid(a) < tenant.datastoreUid(b) ? -1 : 1,
  );
}
