import type { CyeraTenantSize } from '../test/fakes/cyera/tenant.ts';
import type { CyralTenantSize } from '../test/fakes/cyral/tenant.ts';

/** Columns per simulated Cyera table. */
export const COLUMNS_PER_TABLE = 100;

/** A Cyera tenant of about `columns` columns: 2 datastores × 2 databases × 5 schemas. */
export function cyeraSize(columns: number): Partial<CyeraTenantSize> {
  const tablesPerSchema = Math.max(1, Math.round(columns / (2 * 2 * 5 * COLUMNS_PER_TABLE)));
  return {
    datastores: 2,
    databasesPerDatastore: 2,
    schemasPerDatabase: 5,
    tablesPerSchema,
    columnsPerTable: COLUMNS_PER_TABLE,
    issuesPerDatastore: 500,
    identitiesPerDatastore: 300,
  };
}

/**
 * A large Cyral tenant of about `columns` columns: 10 sidecars, repositories of 5 schemas × 50
 * tables × 20 labeled columns (5,000 per data map), 5 user accounts with 4 access rules each,
 * 30 labels, 50 policies.
 */
export function cyralSize(columns: number): Partial<CyralTenantSize> {
  return {
    sidecars: 10,
    listenersPerSidecar: 4,
    repos: Math.max(1, Math.round(columns / 5000)),
    schemasPerRepo: 5,
    tablesPerSchema: 50,
    columnsPerTable: 20,
    accountsPerRepo: 5,
    rulesPerAccount: 4,
    labels: 30,
    legacyPolicies: 50,
    policiesV2: 10,
    roles: 20,
  };
}
