import {
  ACCESS_LEVELS,
  COLUMN_TYPES,
  DATA_CLASSES,
  DATASTORE_KINDS,
  IDENTITY_CATEGORIES,
  ISSUE_NAMES,
  ISSUE_STATUSES,
  PERSONAL_MARKER,
  RECORD_MARKER,
  SENSITIVITY_DISPLAY,
  SEVERITIES,
  TOKENIZATIONS,
  hash,
  hex,
  pick,
} from './vocabulary.ts';

/** How big the simulated tenant is. Columns = datastores × databases × schemas × tables × columns. */
export interface CyeraTenantSize {
  readonly datastores: number;
  readonly databasesPerDatastore: number;
  readonly schemasPerDatabase: number;
  readonly tablesPerSchema: number;
  readonly columnsPerTable: number;
  readonly issuesPerDatastore: number;
  readonly identitiesPerDatastore: number;
}

export const DEFAULT_TENANT_SIZE: CyeraTenantSize = {
  datastores: 3,
  databasesPerDatastore: 2,
  schemasPerDatabase: 2,
  tablesPerSchema: 3,
  columnsPerTable: 4,
  issuesPerDatastore: 7,
  identitiesPerDatastore: 9,
};

/** A database that only issues name: it has no tables in the stream. */
export const TABLELESS_DATABASE = 'ARCHIVE_DB';

/** A deterministic tenant: every record is a pure function of (seed, size, indexes). */
export class SimulatedTenant {
  readonly seed: number;
  readonly size: CyeraTenantSize;
  #indexes: Map<string, number> | undefined;

  constructor(seed: number, size: Partial<CyeraTenantSize> = {}) {
    this.seed = seed;
    this.size = { ...DEFAULT_TENANT_SIZE, ...size };
  }

  /** The uid of datastore `index` (UUID-shaped; not in index order once sorted). */
  datastoreUid(index: number): string {
    const h = (n: number): string => hex(n, this.seed, 1, index);
    return `0198${h(4)}-${h(8).slice(4, 8)}-7${h(11).slice(8, 11)}-8${h(14).slice(11, 14)}-${h(26).slice(14)}`;
  }

  /** The index of a datastore uid (a map built on first use: one entry per datastore). */
  datastoreIndexOf(uid: string): number | undefined {
    this.#indexes ??= new Map(
      Array.from({ length: this.size.datastores }, (_, i) => [this.datastoreUid(i), i]),
    );
    return this.#indexes.get(uid);
  }

  datastore(index: number): Record<string, unknown> {
    const kind = pick(DATASTORE_KINDS, index);
    return {
      uid: this.datastoreUid(index),
      name: `sim-${kind.engine}-${String(index).padStart(3, '0')}`,
      ...kind,
      dataType: 'Structured',
      regions: ['us-east-1'],
      account: { name: `Account ${index % 2}`, inPlatformIdentifier: `12345678901${index % 2}` },
      classificationGroups: ['Financial', 'Personal'],
      sensitivity: 'Sensitive',
      sensitivityDisplayName: 'Confidential',
      recordCountBySensitivity: {
        VerySensitive: 13,
        Sensitive: 84,
        Internal: 31,
        NotSensitive: 21,
      },
      issues: { open: 1, closed: 2, inProgress: 1 },
      scanningState: 'Scanned',
      encrypted: true,
      discoveredDate: '2025-08-28T15:42:11.982Z',
      owner: `${PERSONAL_MARKER}.owner${index}@example.com`,
      datastoreOwners: [{ email: `${PERSONAL_MARKER}.jparker@example.com`, ownerType: 'Primary' }],
      cloudProviderTags: [{ key: 'Owner', value: `${PERSONAL_MARKER} Jane Parker` }],
    };
  }

  databaseName(index: number): string {
    return index === 1 ? 'DONNÉES_1' : `DB_${index}`;
  }

  schemaName(index: number): string {
    return index === 0 ? 'PUBLIC' : index === 2 ? 'RAW/LANDING' : `S_${index}`;
  }

  tableName(index: number): string {
    if (index % 7 === 3) return `Kunden_Übersicht_${index}`;
    if (index % 7 === 5) return `顧客_${index}`;
    if (index % 11 === 4) return `ORDERS/${index}`;
    if (index % 13 === 6) return `emoji_🙂_${index}`;
    return `T_${index}`;
  }

  /** Tables in one datastore's stream. */
  get tablesPerDatastore(): number {
    const { databasesPerDatastore, schemasPerDatabase, tablesPerSchema } = this.size;
    return databasesPerDatastore * schemasPerDatabase * tablesPerSchema;
  }

  /** Table `t` of datastore `ds`, one stream line's object, in stream order. */
  table(ds: number, t: number): Record<string, unknown> {
    const { schemasPerDatabase, tablesPerSchema, columnsPerTable } = this.size;
    const columns = Array.from({ length: columnsPerTable }, (_, c) => this.column(ds, t, c));
    const classes = new Map<string, Record<string, unknown>>();
    for (const column of columns) {
      for (const found of column.classifications as Record<string, unknown>[]) {
        classes.set(String(found['dataClassName']), found);
      }
    }
    const top = [...classes.values()].map((c) => String(c['sensitivity']));
    const sensitivity = ['VerySensitive', 'Sensitive', 'Internal'].find((s) => top.includes(s));
    return {
      uid: `tbl-${hex(8, this.seed, 2, ds, t)}-${t}`,
      datastoreUid: this.datastoreUid(ds),
      datastoreName: `sim-${pick(DATASTORE_KINDS, ds).engine}-${String(ds).padStart(3, '0')}`,
      databaseName: this.databaseName(Math.floor(t / (schemasPerDatabase * tablesPerSchema))),
      schemaName: this.schemaName(Math.floor(t / tablesPerSchema) % schemasPerDatabase),
      tableName: this.tableName(t),
      sensitivity: sensitivity ?? 'NotSensitive',
      sensitivityDisplayName: SENSITIVITY_DISPLAY[sensitivity ?? 'NotSensitive'],
      // Table-level classifications use the flat `tokenization` of the reference example.
      classifications: [...classes.values()].map((c) => ({
        uid: c['uid'],
        dataClassName: c['dataClassName'],
        classificationName: c['classificationName'],
        sensitivity: c['sensitivity'],
        tokenization: (c['context'] as Record<string, unknown>)['tokenization'],
      })),
      columns,
    };
  }

  column(
    ds: number,
    t: number,
    c: number,
  ): Record<string, unknown> & { classifications: unknown[] } {
    const h = hash(this.seed, 3, ds, t, c);
    const count = h % 10 < 6 ? 0 : h % 10 < 9 ? 1 : 2;
    const dataClass = pick(DATA_CLASSES, h >>> 8);
    // Two classifications are two regional variants of one class, or two classes.
    const classifications = Array.from({ length: count }, (_, k) => {
      const cls =
        k === 1 && dataClass.variants.length === 1 ? pick(DATA_CLASSES, (h >>> 8) + 1) : dataClass;
      return this.classification(cls, k, hash(h, k));
    });
    return {
      name: c % 10 === 0 ? `EMAIL_${c}` : `COL_${c}`,
      dataType: pick(COLUMN_TYPES, h >>> 4),
      classifications,
    };
  }

  private classification(
    cls: (typeof DATA_CLASSES)[number],
    variant: number,
    h: number,
  ): Record<string, unknown> {
    return {
      uid: `cls-${hex(8, h)}`,
      dataClassName: cls.dataClassName,
      classificationName: pick(cls.variants, variant),
      classificationGroup: cls.group,
      sensitivity: cls.sensitivity,
      sensitivityDisplayName: SENSITIVITY_DISPLAY[cls.sensitivity],
      context: { tokenization: pick(TOKENIZATIONS, h >>> 3), role: 'Customer' },
      learned: false,
    };
  }

  /** The database an issue names: none (datastore level), a real one, or a table-less one. */
  issueDatabase(i: number): string | undefined {
    const { databasesPerDatastore } = this.size;
    if (i % 3 === 0) return undefined;
    const d = i % (databasesPerDatastore + 1);
    return d === databasesPerDatastore ? TABLELESS_DATABASE : this.databaseName(d);
  }

  /** Issue `k` of the tenant (`issuesPerDatastore` per datastore, in datastore order). */
  issue(k: number): Record<string, unknown> {
    const ds = Math.floor(k / this.size.issuesPerDatastore);
    const i = k % this.size.issuesPerDatastore;
    return {
      uid: `iss-${hex(12, this.seed, 4, k)}`,
      name: pick(ISSUE_NAMES, i),
      severity: pick(SEVERITIES, i),
      status: pick(ISSUE_STATUSES, i + ds),
      datastoreUid: this.datastoreUid(ds),
      databaseName: this.issueDatabase(i),
      policyUid: `pol-${i % 3}`,
      remediationAdvice: `Rotate the card ${RECORD_MARKER} 4111 1111 1111 1111`,
      resolutionNote: `${RECORD_MARKER} customer Jane asked`,
      data: { recordsAtRisk: 25, dataClassesUids: ['cls-1'] },
      owner: `${PERSONAL_MARKER}.issue-owner@example.com`,
      datastoreOwners: [{ email: `${PERSONAL_MARKER}.ds-owner@example.com` }],
    };
  }

  identityDatabase(j: number): string | undefined {
    return j % 4 === 0 ? undefined : this.databaseName(j % this.size.databasesPerDatastore);
  }

  /** Identity `j` with access to datastore `ds`, personal fields included. */
  identity(ds: number, j: number): Record<string, unknown> {
    const personal = (field: string): string => `${PERSONAL_MARKER}-${field}-${ds}-${j}`;
    return {
      uid: `idn-${hex(12, this.seed, 5, ds, j)}`,
      category: pick(IDENTITY_CATEGORIES, j),
      accessLevel: pick(ACCESS_LEVELS, j),
      accessPath: j % 2 === 0 ? 'Direct' : 'Group',
      isAdmin: j % 5 === 2,
      isStale: j % 3 === 1,
      databaseName: this.identityDatabase(j),
      displayName: personal('name'),
      displayId: `${personal('email')}@example.com`,
      jobTitle: personal('title'),
      department: personal('department'),
      officeLocation: personal('office'),
      country: personal('country'),
      reportsTo: personal('manager'),
      managerId: personal('managerId'),
      description: personal('description'),
    };
  }
}
