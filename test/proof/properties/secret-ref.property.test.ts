import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSecretRef } from '../../../agent/plugin-api/index.ts';
import type { SecretRefParts } from '../../../agent/plugin-api/index.ts';
import { parseSecretRef } from '../../../agent/secrets/ref.ts';
import { secretStores } from '../../../secrets/index.ts';
import { garbageText, params, parsesOrCoded } from './harness.ts';

const text = (maxLength: number) =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom('/', '#', '?', '&', '=', '%', '~', ':', '@', ' ', '+'),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
      fc.constantFrom('é', '鍵', '😀'),
    ),
    minLength: 1,
    maxLength,
  });

/** The parts of a reference any store accepts at the parser's level. */
const parts: fc.Arbitrary<SecretRefParts> = fc.constantFrom(...secretStores).chain((store) =>
  fc.record({
    scheme: fc.constant(store.scheme),
    locator: text(40),
    profile: fc.oneof(fc.constant(store.scheme), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)),
    version: fc.option(text(12), { nil: undefined }),
    decode: fc.constantFrom('none', 'base64', 'base64url'),
    maxAgeSeconds: fc.option(fc.integer({ min: 30, max: 3600 }), { nil: undefined }),
    params:
      store.params.length === 0
        ? fc.constant({})
        : fc.dictionary(fc.constantFrom(...store.params), text(12), {
            maxKeys: store.params.length,
          }),
    selector: fc.option(
      fc.oneof(
        text(20)
          .filter((key) => !key.startsWith('/'))
          .map((key) => ({ kind: 'key' as const, key })),
        fc
          .array(fc.oneof(text(8), fc.constant('')), { minLength: 1, maxLength: 4 })
          .map((tokens) => ({
            kind: 'pointer' as const,
            pointer: `/${tokens.map((token) => token.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`,
            tokens,
          })),
      ),
      { nil: undefined },
    ),
  }),
);

describe('secret references, over generated input', () => {
  it('round-trip: parse(format(ref)) gives the same reference', () => {
    fc.assert(
      fc.property(parts, (ref) => {
        const written = formatSecretRef(ref);
        const outcome = parsesOrCoded('secret ref: round trip', [], () =>
          parseSecretRef(written, secretStores),
        );
        if ('value' in outcome) {
          const { raw, ...parsed } = outcome.value;
          expect(raw).toBe(written);
          expect(parsed).toEqual(ref);
        }
      }),
      params(),
    );
  });

  it('format(parse(text)) is canonical: it parses to the same reference', () => {
    const refText = fc.oneof(
      parts.map((ref) => formatSecretRef(ref)),
      fc.tuple(parts, fc.nat(), garbageText).map(([ref, at, junk]) => {
        const written = formatSecretRef(ref);
        const cut = at % (written.length + 1);
        return `${written.slice(0, cut)}${junk}${written.slice(cut)}`;
      }),
      garbageText,
    );
    fc.assert(
      fc.property(refText, (written) => {
        const outcome = parsesOrCoded('secret ref: parse', ['SECRET_INVALID_REF'], () =>
          parseSecretRef(written, secretStores),
        );
        if ('value' in outcome) {
          const { raw: _raw, ...first } = outcome.value;
          const { raw: _again, ...second } = parseSecretRef(formatSecretRef(first), secretStores);
          expect(second).toEqual(first);
          expect(first.locator).not.toBe('');
        }
      }),
      params(),
    );
  });
});
