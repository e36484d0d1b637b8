import type { CyeraTenantSize } from '../test/fakes/cyera/tenant.ts';

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
