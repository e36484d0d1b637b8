import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../agent/ledger/jcs.ts';
import { depth, nested, params, parsesOrCoded } from './harness.ts';

const anyJson = fc.jsonValue({ maxDepth: 5 });
const anyValue = fc.oneof(
  anyJson,
  fc.anything({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 20 }).map((text) => ({ text })),
  fc.constantFrom(Number.NaN, Infinity, -0, 1e21, 5e-324, undefined, () => 1, 10n),
);

/** The same object with its members in another order, at every level. */
function reordered(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => reordered(item, seed + index));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    const rotated = entries.map((_, index) => entries[(index + seed) % entries.length]);
    return Object.fromEntries(
      rotated.flatMap((entry) =>
        entry === undefined ? [] : [[entry[0], reordered(entry[1], seed + 1)]],
      ),
    );
  }
  return value;
}

describe('canonical JSON (RFC 8785), over generated values', () => {
  it('round-trips: parsing the canonical text gives the value back, and its canonical text again', () => {
    fc.assert(
      fc.property(anyJson, fc.nat(), (value, seed) => {
        const outcome = parsesOrCoded('canonical JSON: round trip', ['INSTRUCTION_INVALID'], () =>
          canonicalJson(value),
        );
        if ('value' in outcome) {
          const back: unknown = JSON.parse(outcome.value);
          expect(back).toEqual(JSON.parse(JSON.stringify(value)));
          expect(canonicalJson(back)).toBe(outcome.value);
          expect(canonicalJson(reordered(value, seed))).toBe(outcome.value);
        }
      }),
      params(),
    );
  });

  it('answers a canonical text or INSTRUCTION_INVALID for anything, deep nesting included', () => {
    fc.assert(
      fc.property(anyValue, depth, (value, levels) => {
        parsesOrCoded('canonical JSON: any value', ['INSTRUCTION_INVALID'], () =>
          canonicalJson(value),
        );
        const outcome = parsesOrCoded('canonical JSON: deep nesting', ['INSTRUCTION_INVALID'], () =>
          canonicalJson(nested(levels)),
        );
        expect('error' in outcome).toBe(levels > 64);
      }),
      params(),
    );
  });
});
