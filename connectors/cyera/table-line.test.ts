import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SimulatedTenant } from '../../test/fakes/cyera/tenant.ts';
import { TableLineSchema } from './records.ts';
import { readTableLine } from './table-line.ts';

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/table-line.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

type Line = Record<string, unknown>;
const column = (line: Line): Line => (line['columns'] as Line[])[0]!;
const tag = (line: Line): Line => (column(line)['classifications'] as Line[])[0]!;

/** One broken rule each, applied to a deep copy of the fixture line. */
const broken: readonly [string, (line: Line) => void][] = [
  ['no tableName', (l) => delete l['tableName']],
  ['an empty schemaName', (l) => (l['schemaName'] = '')],
  ['a databaseName too long', (l) => (l['databaseName'] = 'd'.repeat(1025))],
  ['a numeric uid', (l) => (l['uid'] = 7)],
  ['a datastoreUid too long', (l) => (l['datastoreUid'] = 'u'.repeat(129))],
  ['columns not a list', (l) => (l['columns'] = {})],
  ['a column without a name', (l) => delete column(l)['name']],
  ['a column that is a string', (l) => ((l['columns'] as unknown[])[0] = 'EMAIL')],
  ['a dataType that is a number', (l) => (column(l)['dataType'] = 3)],
  [
    'a tag with neither dataClassName nor name',
    (l) => {
      delete tag(l)['dataClassName'];
      delete tag(l)['name'];
    },
  ],
  ['an empty dataClassName', (l) => (tag(l)['dataClassName'] = '')],
  ['a context that is a string', (l) => (tag(l)['context'] = 'plain')],
  ['a tokenization that is a list', (l) => (tag(l)['context'] = { tokenization: ['a'] })],
  ['classifications not a list', (l) => (l['classifications'] = 'Email')],
];

describe('readTableLine', () => {
  it('reads a line exactly as the zod schema does, unnamed fields stripped', () => {
    const tenant = new SimulatedTenant(7, {});
    const lines = [fixture, ...Array.from({ length: 50 }, (_, t) => tenant.table(0, t))];
    for (const line of lines) {
      const parsed = TableLineSchema.parse(line);
      expect(readTableLine(line)).toEqual(parsed);
    }
    expect(JSON.stringify(readTableLine(fixture))).not.toContain('geoLocations');
    expect(readTableLine(fixture)).not.toHaveProperty('datastoreName');
  });

  it('keeps nulls where the zod schema keeps them', () => {
    const line = { ...fixture, uid: null, columns: null, classifications: null };
    expect(readTableLine(line)).toEqual(TableLineSchema.parse(line));
  });

  it.each(broken)('refuses, as the zod schema does, a line with %s', (_, breakIt) => {
    const line = structuredClone(fixture);
    breakIt(line);
    expect(readTableLine(line)).toBeUndefined();
    expect(TableLineSchema.safeParse(line).success).toBe(false);
  });
});
