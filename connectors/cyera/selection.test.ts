import { describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import { CyeraParamsSchema } from './config.ts';
import type { Datastore } from './records.ts';
import { createDatastoreFilter, matchesGlob, selectDatastores } from './selection.ts';

const datastores: Datastore[] = [
  { uid: 'c-3', name: 'prod-sales', provider: 'Snowflake', type: 'SNOWFLAKE_DATABASE' },
  { uid: 'a-1', name: 'prod-hr', provider: 'AWS', type: 'AWS_RDS_INSTANCE' },
  { uid: 'b-2', name: 'dev-sales', provider: 'snowflake', type: 'SNOWFLAKE_DATABASE' },
];

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    yield await Promise.resolve(item);
  }
}

describe('matchesGlob', () => {
  it('matches * and ? case-insensitively and anchors both ends', () => {
    expect(matchesGlob('prod-*', 'PROD-sales')).toBe(true);
    expect(matchesGlob('*-sales', 'prod-sales')).toBe(true);
    expect(matchesGlob('prod-?r', 'prod-hr')).toBe(true);
    expect(matchesGlob('prod', 'prod-hr')).toBe(false);
    expect(matchesGlob('*sales', 'sales-x')).toBe(false);
  });

  it('treats regular-expression characters literally', () => {
    expect(matchesGlob('a.b(c)', 'a.b(c)')).toBe(true);
    expect(matchesGlob('a.b', 'axb')).toBe(false);
    expect(matchesGlob('顧客*', '顧客_1')).toBe(true);
  });

  it('answers quickly on a pattern that would backtrack badly as a RegExp', () => {
    const started = performance.now();
    expect(matchesGlob(`${'*a'.repeat(40)}b`, 'a'.repeat(1000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('datastore selection', () => {
  it('filters by provider and type case-insensitively and by name pattern', () => {
    const keep = createDatastoreFilter(
      CyeraParamsSchema.parse({ provider: 'SNOWFLAKE', namePattern: '*-sales' }),
    );
    expect(datastores.filter(keep).map((d) => d.uid)).toEqual(['c-3', 'b-2']);
  });

  it('returns the selection sorted by uid, the order checkpoints rely on', async () => {
    const selected = await selectDatastores(each(datastores), CyeraParamsSchema.parse({}));
    expect(selected.map((d) => d.uid)).toEqual(['a-1', 'b-2', 'c-3']);
  });

  it('fails naming the selected uids Cyera does not list', async () => {
    const params = CyeraParamsSchema.parse({ datastoreUids: ['a-1', 'gone-9'] });
    const error: unknown = await selectDatastores(each(datastores), params).catch(
      (e: unknown) => e,
    );
    expect(isPerimeterError(error, 'SOURCE_REQUEST_FAILED')).toBe(true);
    expect((error as Error).message).toContain('gone-9');
    expect((error as Error).message).toContain('params.datastoreUids');
  });
});
