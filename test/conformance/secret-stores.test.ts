// The suite every secret store passes, through the real resolver, against its fixture's fake.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { SecretStoreDefinition } from '../../agent/plugin-api/index.ts';
import { buildSecretStoresSchema } from '../../agent/secrets/profiles.ts';
import { createSecretResolver } from '../../agent/secrets/resolver.ts';
import type { SecretResolver } from '../../agent/secrets/resolver.ts';
import { SecretsSettingsSchema } from '../../agent/secrets/settings.ts';
import { secretStores } from '../../secrets/index.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import type { CapturedLogs } from '../helpers/capture-logs.ts';
import { rejectionOf as rejection } from '../helpers/matchers.ts';
import type { SecretStoreHarness } from './secret-store-fixture.ts';
import { operatorStores } from '../helpers/operator-stores.ts';
import { secretStoreFixtures } from './secret-store-fixtures.ts';

const SOFT_TTL_MS = 300_000;
const DOCUMENT = {
  user: 'svc-perimeter',
  password: 'conformance-pa55word',
  nested: { key: 'nested-value' },
};

describe('the secret store registry', () => {
  const folders = readdirSync(new URL('../../secrets/', import.meta.url)).filter((name) =>
    statSync(new URL(`../../secrets/${name}`, import.meta.url)).isDirectory(),
  );
  const schemes = secretStores.map((store) => store.scheme);

  it('lists every folder under secrets/, each under its folder name as the scheme', () => {
    expect([...schemes].sort()).toEqual([...folders].sort());
  });

  it('has a conformance fixture for every registered store', () => {
    const covered = new Set(secretStoreFixtures.map((fixture) => fixture.scheme));
    expect(schemes.filter((scheme) => !covered.has(scheme))).toEqual([]);
  });

  it('has an operator set-up and a README for every store that is configured (no implicit profile)', () => {
    const configured = secretStores.filter((store) => store.implicitProfile === undefined);
    expect(configured.map((store) => store.scheme).sort()).toEqual(
      Object.keys(operatorStores).sort(),
    );
    const readmeMissing = configured.filter(
      (store) => !existsSync(new URL(`../../secrets/${store.scheme}/README.md`, import.meta.url)),
    );
    expect(readmeMissing.map((store) => store.scheme)).toEqual([]);
  });
});

describe.each(secretStoreFixtures)('$scheme secret store', (fixture) => {
  // Cases a store cannot take part in by its nature are not generated (see the fixture's docs).
  const can = {
    denied: true,
    transientFailures: true,
    delay: true,
    remove: false,
    ...fixture.capabilities,
  };
  let harness: SecretStoreHarness;
  let logs: CapturedLogs;
  let resolver: SecretResolver;
  const clock = { ms: 0 };
  const signal = new AbortController().signal;

  beforeEach(async () => {
    harness = await fixture.start();
    logs = captureLogs();
    clock.ms = 1_000_000;
    const override = harness.store;
    const stores: SecretStoreDefinition[] = secretStores.map((store) =>
      store.scheme === override?.scheme ? override : store,
    );
    // As in production: the profile through the secretStores schema (defaults applied).
    const profiles = buildSecretStoresSchema(stores).parse({ conformance: harness.profile });
    resolver = createSecretResolver({
      stores,
      profiles,
      settings: SecretsSettingsSchema.parse({
        retryBaseDelayMs: 5,
        retryMaxDelayMs: 200,
        maxAttempts: 3,
      }),
      network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
      redactor: logs.redactor,
      logger: logs.logger,
      metrics: createMetrics(),
      environment: harness.environment ?? {},
      now: () => clock.ms,
    });
  });

  afterEach(async () => {
    await resolver.close();
    await harness.close();
  });

  const resolve = async (ref: string, forceRefresh = false): Promise<string> =>
    (await resolver.resolve(ref, { signal, forceRefresh })).reveal();

  it('resolves a secret whole and through #key and #/pointer selectors, with one read', async () => {
    const ref = await harness.put('app-config', JSON.stringify(DOCUMENT));
    const before = harness.readCount();
    expect(JSON.parse(await resolve(ref))).toEqual(DOCUMENT);
    expect(await resolve(`${ref}#user`)).toBe('svc-perimeter');
    expect(await resolve(`${ref}#/nested/key`)).toBe('nested-value');
    expect(harness.readCount() - before).toBe(1);
  });

  it('answers a missing secret with SECRET_NOT_FOUND', async () => {
    expect(await rejection(resolve(harness.missingRef()))).toMatchObject({
      code: 'SECRET_NOT_FOUND',
      retryable: false,
    });
  });

  if (can.denied) {
    it('answers a refused read with SECRET_ACCESS_DENIED', async () => {
      const ref = await harness.deniedRef();
      expect(await rejection(resolve(ref))).toMatchObject({
        code: 'SECRET_ACCESS_DENIED',
        retryable: false,
      });
    });
  }

  it('refuses a reference outside the allowlist with SECRET_REF_DENIED before any read', async () => {
    const before = harness.readCount();
    expect(await rejection(resolve(harness.disallowedRef()))).toMatchObject({
      code: 'SECRET_REF_DENIED',
    });
    expect(harness.readCount()).toBe(before);
  });

  if (can.transientFailures) {
    it('retries an unavailable store, then succeeds', async () => {
      const ref = await harness.put('flaky', 'flaky-value');
      const before = harness.readCount();
      harness.failNext(2);
      expect(await resolve(ref)).toBe('flaky-value');
      expect(harness.readCount() - before).toBeGreaterThanOrEqual(3);
    });
  }

  it('refuses a selector on a value that is not JSON with SECRET_SELECTOR_INVALID', async () => {
    const ref = await harness.put('plain', 'plain-text-value');
    expect(await rejection(resolve(`${ref}#password`))).toMatchObject({
      code: 'SECRET_SELECTOR_INVALID',
    });
  });

  it('gives up on an already aborted signal without reading', async () => {
    const ref = await harness.put('aborted', 'aborted-value');
    const before = harness.readCount();
    const reason = new PerimeterError('RUN_CANCELLED', 'cancelled');
    expect(await rejection(resolver.resolve(ref, { signal: AbortSignal.abort(reason) }))).toBe(
      reason,
    );
    expect(harness.readCount()).toBe(before);
  });

  if (can.delay) {
    it('aborts a delayed read within 200 ms', async () => {
      const ref = await harness.put('slow', 'slow-value');
      harness.delay(5_000);
      const controller = new AbortController();
      const reason = new PerimeterError('RUN_CANCELLED', 'cancelled');
      const started = performance.now();
      const pending = rejection(resolver.resolve(ref, { signal: controller.signal }));
      setTimeout(() => {
        controller.abort(reason);
      }, 50);
      expect(await pending).toBe(reason);
      expect(performance.now() - started).toBeLessThan(250);
    });
  }

  it('reads once per soft TTL', async () => {
    const ref = await harness.put('cached', 'cached-value');
    const before = harness.readCount();
    for (let i = 0; i < 3; i += 1) {
      expect(await resolve(ref)).toBe('cached-value');
    }
    expect(harness.readCount() - before).toBe(1);
    clock.ms += SOFT_TTL_MS * 1.1;
    expect(await resolve(ref)).toBe('cached-value');
    expect(harness.readCount() - before).toBe(2);
  });

  it('shares one read between concurrent misses', async () => {
    const ref = await harness.put('shared', JSON.stringify(DOCUMENT));
    if (can.delay) {
      harness.delay(30);
    }
    const before = harness.readCount();
    const values = await Promise.all(
      ['', '#user', '#password', '#user'].map((s) => resolve(`${ref}${s}`)),
    );
    expect(values.slice(1)).toEqual(['svc-perimeter', 'conformance-pa55word', 'svc-perimeter']);
    expect(harness.readCount() - before).toBe(1);
  });

  if (can.transientFailures) {
    it('serves the cached value during a burst of transient failures', async () => {
      const ref = await harness.put('stale', 'stale-value');
      expect(await resolve(ref)).toBe('stale-value');
      harness.failAll();
      clock.ms += SOFT_TTL_MS * 1.1;
      for (let i = 0; i < 3; i += 1) {
        expect(await resolve(ref)).toBe('stale-value');
      }
      harness.restore();
    });

    it.runIf(can.remove)(
      'never serves a cached value after the store answered not found',
      async () => {
        const ref = await harness.put('removed', 'removed-value');
        expect(await resolve(ref)).toBe('removed-value');
        await harness.remove?.('removed');
        clock.ms += SOFT_TTL_MS * 1.1;
        expect(await rejection(resolve(ref))).toMatchObject({ code: 'SECRET_NOT_FOUND' });
      },
    );

    it('returns the rotated value on a forced refresh', async () => {
      const ref = await harness.put('rotating', 'value-before-rotation');
      expect(await resolve(ref)).toBe('value-before-rotation');
      await harness.put('rotating', 'value-after-rotation');
      expect(await resolve(ref)).toBe('value-before-rotation');
      expect(await resolve(ref, true)).toBe('value-after-rotation');
    });
  }

  it('never lets a canary value into logs or error messages', async () => {
    const canary = makeCanary('conformance-canary');
    const ref = await harness.put('canary', JSON.stringify({ password: canary }));
    const plain = await harness.put('canary-plain', canary);
    const value = await resolver.resolve(`${ref}#password`, { signal });
    logs.logger.info({ value, text: value.reveal() }, 'a careless log line');
    const errors = await Promise.all(
      [`${ref}#missing`, `${plain}#password`, `${plain}?decode=base64`, harness.missingRef()].map(
        (r) => rejection(resolve(r)),
      ),
    );
    await resolve(ref, true);
    const captured: Record<string, string> = { logs: logs.text(), inspected: inspect(value) };
    errors.forEach((error, i) => {
      captured[`error ${i}`] =
        error instanceof PerimeterError
          ? `${error.message} ${JSON.stringify(error.toSummary())}`
          : String(error);
    });
    expect(errors.every((error) => error instanceof PerimeterError)).toBe(true);
    expect(findCanary(canary, captured)).toEqual([]);
  });
});
