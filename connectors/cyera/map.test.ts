import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssetSchema } from '../../agent/plugin-api/index.ts';
import { SimulatedTenant } from '../../test/fakes/cyera/tenant.ts';
import { IdentityTally, IssueTally, tallyIdentities, tallyIssues } from './aggregate.ts';
import {
  columnToAsset,
  databaseToAsset,
  datastoreToAsset,
  datastoreToResource,
  qualifiedName,
  schemaToAsset,
  tableToAsset,
  toClassifications,
} from './map.ts';
import {
  DatastoreSchema,
  IdentitySchema,
  IssueSchema,
  TableLineSchema,
  pageSchema,
} from './records.ts';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
}

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    yield await Promise.resolve(item);
  }
}

const datastore = DatastoreSchema.parse(fixture('datastore.json'));
const table = TableLineSchema.parse(fixture('table-line.json'));
const issues = pageSchema(IssueSchema).parse(fixture('issues.page-1.json')).results;
const identities = pageSchema(IdentitySchema).parse(fixture('identities.page-1.json')).results;
const path = {
  tenant: 'acme',
  datastoreUid: datastore.uid,
  databaseName: 'SALES',
  schemaName: 'PUBLIC',
};
const empty = { issues: new IssueTally().toJson(), identities: new IdentityTally().toJson() };

describe('Cyera mapping', () => {
  it('maps a datastore to a root asset without owners, tags or console URLs', () => {
    const asset = datastoreToAsset('acme', datastore, empty);
    expect(AssetSchema.parse(asset)).toEqual(asset);
    expect(asset).toMatchObject({
      typeName: 'CyeraDatastore',
      qualifiedName: 'cyera/acme/0198a421-92f3-4e89-bb2a-6d5b1229c1ef',
      name: 'mockinsurance-snowflake-prod',
      attributes: { provider: 'Snowflake', type: 'SNOWFLAKE_DATABASE', accountId: 'XY12345' },
    });
    expect(asset.parentQualifiedName).toBeUndefined();
    const text = JSON.stringify(asset);
    for (const personal of ['example.com', 'Jane Parker', 'console', 'datastoreOwners']) {
      expect(text).not.toContain(personal);
    }
  });

  it('maps a table line to a table tagged with its data classes', () => {
    const asset = tableToAsset(path, table);
    expect(AssetSchema.parse(asset)).toEqual(asset);
    expect(asset.qualifiedName).toBe(`cyera/acme/${datastore.uid}/SALES/PUBLIC/CUSTOMERS`);
    expect(asset.parentQualifiedName).toBe(`cyera/acme/${datastore.uid}/SALES/PUBLIC`);
    expect(asset.attributes).toMatchObject({
      sensitivity: 'Sensitive',
      sensitivityDisplayName: 'Confidential',
      columnCount: 3,
      classifiedColumnCount: 2,
    });
    expect(asset.classifications).toEqual([
      {
        typeName: 'Email (Cyera Data Class)',
        attributes: {
          classificationNames: ['Email'],
          sensitivity: 'Sensitive',
          tokenization: 'Plain',
        },
      },
      {
        typeName: 'Address (Cyera Data Class)',
        attributes: {
          classificationNames: ['Address Texas'],
          sensitivity: 'Sensitive',
          tokenization: 'Tokenized',
        },
      },
    ]);
  });

  it('reads a column tokenization from its classification context', () => {
    const tableAsset = tableToAsset(path, table);
    const email = columnToAsset(
      { ...tableAsset, datastoreUid: datastore.uid },
      table.columns![0]!,
      1,
    );
    expect(email).toMatchObject({
      typeName: 'CyeraColumn',
      qualifiedName: `${tableAsset.qualifiedName}/EMAIL`,
      parentQualifiedName: tableAsset.qualifiedName,
      attributes: { dataType: 'VARCHAR', position: 1, sensitivity: 'Sensitive' },
      classifications: [
        {
          typeName: 'Email (Cyera Data Class)',
          attributes: {
            classificationNames: ['Email'],
            classificationGroup: 'Personal',
            sensitivity: 'Sensitive',
            sensitivityDisplayName: 'Confidential',
            tokenization: 'Plain',
          },
        },
      ],
    });
  });

  it('merges regional variants into one tag with the highest sensitivity and plain winning', () => {
    const address = table.columns![1]!;
    const [tag, ...rest] = toClassifications(address.classifications!);
    expect(rest).toEqual([]);
    expect(tag).toEqual({
      typeName: 'Address (Cyera Data Class)',
      attributes: {
        classificationNames: ['Address Texas', 'Customer Address California'],
        classificationGroup: 'Personal',
        sensitivity: 'VerySensitive',
        sensitivityDisplayName: 'Highly Confidential',
        tokenization: 'Plain',
      },
    });
    const column = columnToAsset({ qualifiedName: 'q', datastoreUid: 'd' }, address, 2);
    expect(column.attributes['sensitivityDisplayName']).toBe('Highly Confidential');
  });

  it('leaves an unclassified column without tags or sensitivity', () => {
    const column = columnToAsset({ qualifiedName: 'q', datastoreUid: 'd' }, table.columns![2]!, 3);
    expect(column.classifications).toBeUndefined();
    expect(column.attributes).toEqual({ datastoreUid: 'd', dataType: 'NUMBER', position: 3 });
  });

  it('percent-encodes slashes and percent signs inside qualified-name segments', () => {
    expect(qualifiedName('acme', 'ds', 'RAW/LANDING', '100%', 'Kunden_Übersicht')).toBe(
      'cyera/acme/ds/RAW%2FLANDING/100%25/Kunden_Übersicht',
    );
    const schema = schemaToAsset({ ...path, schemaName: 'RAW/LANDING' });
    expect(schema.qualifiedName).toBe(`cyera/acme/${datastore.uid}/SALES/RAW%2FLANDING`);
    expect(schema.name).toBe('RAW/LANDING');
  });

  it('turns a datastore into a selectable resource with type, provider and engine', () => {
    expect(datastoreToResource(datastore)).toEqual({
      kind: 'datastore',
      id: datastore.uid,
      name: 'mockinsurance-snowflake-prod',
      attributes: { type: 'SNOWFLAKE_DATABASE', provider: 'Snowflake', engine: 'snowflake' },
    });
  });
});

describe('Cyera summaries', () => {
  it('aggregates issues per database with counts, names and policies but no finding text', async () => {
    const tallies = await tallyIssues(each(issues), new Set([datastore.uid]));
    expect([...tallies.keys()]).toEqual([datastore.uid]);
    const scoped = tallies.get(datastore.uid)!;
    const sales = scoped.database('SALES');
    expect(sales).toEqual({
      total: 2,
      bySeverity: { Critical: 2 },
      byStatus: { Open: 2 },
      names: ['Credit card number in plain text'],
      policyUids: ['pol-cc-plain'],
      namesNotListed: 0,
    });
    expect(scoped.datastore.toJson()).toMatchObject({ total: 1, bySeverity: { High: 1 } });
    const asset = databaseToAsset(path, { issues: sales, identities: empty.identities });
    const text = JSON.stringify(asset);
    for (const quoted of ['4111', 'John', 'Tokenize', 'example.com', 'Unmitigated']) {
      expect(text).not.toContain(quoted);
    }
  });

  it('aggregates identities per database as counts without any personal field', async () => {
    const scoped = await tallyIdentities(each(identities));
    expect(scoped.database('SALES')).toEqual({
      total: 2,
      byAccessLevel: { Admin: 1, Read: 1 },
      byCategory: { ServiceAccount: 1, User: 1 },
      admins: 1,
      stale: 1,
    });
    expect(scoped.datastore.toJson()).toMatchObject({ total: 1, byAccessLevel: { Write: 1 } });
    const text = JSON.stringify([scoped.database('SALES'), scoped.datastore.toJson()]);
    for (const personal of ['Jane', 'Payroll', 'Finance', 'Austin', 'John', 'idn-', 'etl-loader']) {
      expect(text).not.toContain(personal);
    }
  });

  it('keeps at most 100 distinct issue names and counts the rest', () => {
    const tally = new IssueTally();
    for (let i = 0; i < 130; i += 1) {
      tally.add({ name: `Issue ${String(i).padStart(3, '0')}`, severity: 'Low', status: 'Open' });
    }
    const json = tally.toJson();
    expect(json['names']).toHaveLength(100);
    expect(json['namesNotListed']).toBe(30);
    expect(json['total']).toBe(130);
  });
});

describe('toClassifications of one record', () => {
  it('gives what the merge of that record with itself gives, for every record of the fixture and of the simulator', () => {
    const table = TableLineSchema.parse(fixture('table-line.json'));
    const tenant = new SimulatedTenant(7, {});
    const lines = [
      table,
      ...Array.from({ length: 20 }, (_, t) => TableLineSchema.parse(tenant.table(0, t))),
    ];
    const records = lines.flatMap((line) => [
      ...(line.classifications ?? []),
      ...(line.columns ?? []).flatMap((column) => column.classifications ?? []),
    ]);
    expect(records.length).toBeGreaterThan(20);
    for (const record of records) {
      expect(toClassifications([record])).toEqual(toClassifications([record, record]));
    }
  });
});
