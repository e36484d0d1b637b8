import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode, SecretStoreDefinition } from '../../../agent/plugin-api/index.ts';
import { extractValue } from '../../../agent/secrets/payload.ts';
import { buildSecretStoresSchema } from '../../../agent/secrets/profiles.ts';
import { createSecretResolver } from '../../../agent/secrets/resolver.ts';
import type { SecretResolver } from '../../../agent/secrets/resolver.ts';
import { SecretsSettingsSchema } from '../../../agent/secrets/settings.ts';
import { secretStores } from '../../../secrets/index.ts';
import type { SecretStoreHarness } from '../../conformance/secret-store-fixture.ts';
import { secretStoreFixtures } from '../../conformance/secret-store-fixtures.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { proofRuns } from '../mode.ts';
import {
  EXCHANGE_TIME_BOUND_MS,
  depth,
  jsonValue,
  params,
  parsesOrCoded,
  parsesOrCodedAsync,
} from './harness.ts';

const ANSWER_CODES: readonly ErrorCode[] = [
  'SECRET_SELECTOR_INVALID',
  'SECRET_DECODE_INVALID',
  'SECRET_TOO_LARGE',
  'SECRET_INVALID_REF',
];

/** A value as stored: plain text, or a JSON document of fields. */
const plain = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  .filter((value) => value.trim() === value && value !== '' && !value.includes('\u0000'));
const fieldName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,12}$/);
const documentValue = fc.dictionary(fieldName, fc.oneof(plain, jsonValue), {
  minKeys: 1,
  maxKeys: 4,
});

const selectorOf = (keys: readonly string[]) =>
  fc.oneof(
    fc.constant(''),
    keys.length === 0
      ? fc.constant('')
      : fc.constantFrom(...keys).map((key) => `#${encodeURIComponent(key)}`),
    fieldName.map((key) => `#${key}`),
    fc.array(fieldName, { minLength: 1, maxLength: 3 }).map((tokens) => `#/${tokens.join('/')}`),
  );

describe('the payload parser (decode= and #selector), over generated payloads', () => {
  const selector = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 10 }).map((key) => ({ kind: 'key' as const, key })),
    fc
      .array(fc.string({ maxLength: 6 }), { maxLength: 4 })
      .map((tokens) => ({ kind: 'pointer' as const, pointer: `/${tokens.join('/')}`, tokens })),
  );
  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    jsonValue.map((value) => Buffer.from(JSON.stringify(value))),
    fc.base64String({ maxLength: 100 }).map((text) => Buffer.from(text)),
  );

  it('answers the selected bytes or a coded SECRET_* error', () => {
    fc.assert(
      fc.property(
        payload,
        fc.constantFrom('none', 'base64', 'base64url'),
        selector,
        (bytes, decode, chosen) => {
          parsesOrCoded('secret payload: decode and select', ANSWER_CODES, () =>
            extractValue(bytes, { decode, selector: chosen, ref: 'env://X' }),
          );
        },
      ),
      params(),
    );
  });

  it('answers a payload nested deep, selected whole, with bytes or a coded error', () => {
    fc.assert(
      fc.property(depth, (levels) => {
        const bytes = Buffer.from(`{"a":${'[{"b":'.repeat(levels)}1${'}]'.repeat(levels)}}`);
        parsesOrCoded('secret payload: deep nesting', ANSWER_CODES, () =>
          extractValue(bytes, {
            decode: 'none',
            selector: { kind: 'key', key: 'a' },
            ref: 'env://X',
          }),
        );
      }),
      params(),
    );
  });
});

describe.each(secretStoreFixtures)(
  'the $scheme store’s answers, through its real client and fake',
  (fixture) => {
    let harness: SecretStoreHarness;
    let resolver: SecretResolver;
    let counter = 0;
    const signal = new AbortController().signal;

    beforeAll(async () => {
      harness = await fixture.start();
      const logs = captureLogs();
      const stores: SecretStoreDefinition[] = secretStores.map((store) =>
        store.scheme === harness.store?.scheme ? harness.store : store,
      );
      resolver = createSecretResolver({
        stores,
        profiles: buildSecretStoresSchema(stores).parse({ conformance: harness.profile }),
        // The agent's own retry of a store that did not answer: a fake starved of CPU on a busy
        // machine is such a store, not a parse failure.
        settings: SecretsSettingsSchema.parse({
          retryBaseDelayMs: 50,
          retryMaxDelayMs: 500,
          maxAttempts: 4,
        }),
        network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
        redactor: logs.redactor,
        logger: logs.logger,
        environment: harness.environment ?? {},
      });
    });

    afterAll(async () => {
      await resolver.close();
      await harness.close();
    });

    // Every input is a write to the fake and a read through the SDK (~0.1 s on a busy machine):
    // fewer than for a pure parser; the payload parser above takes the full count.
    const runs = proofRuns({ ci: 25, long: 500 });

    it('gives back a plain value as stored, or a coded error', async () => {
      await fc.assert(
        fc.asyncProperty(plain, async (value) => {
          counter += 1;
          const ref = await harness.put(`p-${counter}`, value);
          const outcome = await parsesOrCodedAsync(
            `store ${fixture.scheme}: plain value`,
            ANSWER_CODES,
            async () => (await resolver.resolve(ref, { signal })).reveal(),
            EXCHANGE_TIME_BOUND_MS,
          );
          if ('value' in outcome) {
            expect(outcome.value).toBe(value);
          }
        }),
        params(runs),
      );
    });

    it('selects from a JSON document by any selector, or answers a coded error', async () => {
      await fc.assert(
        fc.asyncProperty(
          documentValue.chain((document) =>
            fc.tuple(fc.constant(document), selectorOf(Object.keys(document))),
          ),
          async ([document, selector]) => {
            counter += 1;
            const ref = await harness.put(`d-${counter}`, JSON.stringify(document));
            const outcome = await parsesOrCodedAsync(
              `store ${fixture.scheme}: document and selector`,
              ANSWER_CODES,
              async () => (await resolver.resolve(`${ref}${selector}`, { signal })).reveal(),
              EXCHANGE_TIME_BOUND_MS,
            );
            const key =
              selector.startsWith('#') && !selector.startsWith('#/')
                ? decodeURIComponent(selector.slice(1))
                : undefined;
            const selected = key === undefined ? undefined : document[key];
            if ('value' in outcome && typeof selected === 'string') {
              expect(outcome.value).toBe(selected);
            }
          },
        ),
        params(runs),
      );
    });
  },
);
