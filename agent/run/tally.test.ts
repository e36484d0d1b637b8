import { describe, expect, it } from 'vitest';
import type { ConnectorEvent } from '../plugin-api/index.ts';
import { MAX_LISTED_SKIPS, RunTally, TallySnapshotSchema } from './tally.ts';

const asset = (typeName: string, name: string): ConnectorEvent => ({
  type: 'asset',
  asset: { typeName, qualifiedName: `t/${name}`, name, attributes: {} },
});
const skipped = (kind: string, id: string): ConnectorEvent => ({
  type: 'skipped',
  kind,
  id,
  reason: 'forbidden',
  message: 'the user may not open it',
});

function tallyOf(events: readonly ConnectorEvent[], tally = new RunTally()): RunTally {
  for (const event of events) tally.count(event);
  return tally;
}

describe('RunTally', () => {
  it('counts per kind what the source reported, what was extracted and what was skipped', () => {
    const result = tallyOf([
      { type: 'reported', kind: 'Model', total: 3 },
      asset('Model', 'a'),
      asset('Model', 'b'),
      skipped('Model', 'm-3'),
      asset('Module', 'x'),
      { type: 'checkpoint', cursor: 1 },
    ]).result();
    expect(result).toEqual({
      kinds: {
        Model: { reported: 3, extracted: 2, skipped: 1, skippedByReason: { forbidden: 1 } },
        Module: { extracted: 1, skipped: 0 },
      },
      partial: true,
      skipped: {
        total: 1,
        truncated: false,
        items: [
          { kind: 'Model', id: 'm-3', reason: 'forbidden', message: 'the user may not open it' },
        ],
      },
      reconciled: true,
      mismatches: [],
    });
  });

  it('is not partial when nothing was skipped, and says which kind does not reconcile', () => {
    const result = tallyOf([
      { type: 'reported', kind: 'Model', total: 2 },
      { type: 'reported', kind: 'Model', total: 2 },
      asset('Model', 'a'),
    ]).result();
    expect(result.partial).toBe(false);
    expect(result.reconciled).toBe(false);
    expect(result.mismatches).toEqual([{ kind: 'Model', reported: 4, extracted: 1, skipped: 0 }]);
  });

  it('lists the first skipped ids only, with the total and truncated', () => {
    const events = Array.from({ length: MAX_LISTED_SKIPS + 5 }, (_, i) => skipped('P', `p-${i}`));
    const result = tallyOf(events).result();
    expect(result.skipped.total).toBe(MAX_LISTED_SKIPS + 5);
    expect(result.skipped.truncated).toBe(true);
    expect(result.skipped.items).toHaveLength(MAX_LISTED_SKIPS);
    expect(result.skipped.items[0]?.id).toBe('p-0');
  });

  it('carries on from a checkpoint snapshot, which survives the queue payload schema', () => {
    const first = tallyOf([
      { type: 'reported', kind: 'Model', total: 3 },
      asset('Model', 'a'),
      skipped('Model', 'm-2'),
    ]);
    const stored = TallySnapshotSchema.parse(JSON.parse(JSON.stringify(first.snapshot())));
    const resumed = tallyOf([asset('Model', 'c')], new RunTally(stored)).result();
    expect(resumed.kinds['Model']).toEqual({
      reported: 3,
      extracted: 2,
      skipped: 1,
      skippedByReason: { forbidden: 1 },
    });
    expect(resumed.reconciled).toBe(true);
    expect(resumed.skipped.items.map((item) => item.id)).toEqual(['m-2']);
  });

  it('refuses malformed events as a connector bug', () => {
    const tally = new RunTally();
    expect(() => {
      tally.count({ type: 'reported', kind: 'Model', total: -1 });
    }).toThrow(/bug in the connector/);
    expect(() => {
      tally.count({ type: 'skipped', kind: '', id: 'x', reason: 'notFound', message: '' });
    }).toThrow(/bug in the connector/);
  });
});
