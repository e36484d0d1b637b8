import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { PerimeterError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { CanonicalSecretRef, SecretRef, SecretStoreDeps } from './secrets.ts';
import { createLazyStoreClient } from './store-client.ts';
import type { SecretStoreBackend } from './store-client.ts';

const REF: CanonicalSecretRef = {
  locator: 'apps/db',
  version: undefined,
  pinned: false,
  details: {},
};

/** The resolver's side of the contract, faked (plugin-api tests import no test helpers). */
function fakeDeps(): { deps: SecretStoreDeps; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const loggerWith = (bindings: Record<string, string | number>): Logger => {
    const log =
      (level: string) =>
      (obj: object, msg: string): void => {
        records.push({ level, ...bindings, ...obj, msg });
      };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => loggerWith({ ...bindings, ...more }),
    };
  };
  const deps: SecretStoreDeps = {
    profileName: 'test',
    logger: loggerWith({}),
    network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
    environment: {},
    redact: () => undefined,
    resolve: () => Promise.reject(new Error('no credentials in these tests')),
  };
  return { deps, records };
}

/** A backend of our own with counters, and a client that loads it through `load`. */
function setup(backend: Partial<SecretStoreBackend> = {}, loadDelayMs = 0) {
  const kit = fakeDeps();
  const counts = { loads: 0, reads: 0, closes: 0 };
  const lifetimes: AbortSignal[] = [];
  const full: SecretStoreBackend = {
    read: () => {
      counts.reads += 1;
      return Promise.resolve({ value: Buffer.from('value'), versionId: '1' });
    },
    probe: () => Promise.resolve(),
    close: () => {
      counts.closes += 1;
      return Promise.resolve();
    },
    ...backend,
  };
  let failLoads = 0;
  const client = createLazyStoreClient({
    scheme: 'mem',
    deps: kit.deps,
    canonicalize: (ref: SecretRef) => ({ ...REF, locator: ref.locator }),
    load: async (lifetime) => {
      counts.loads += 1;
      lifetimes.push(lifetime);
      await sleep(loadDelayMs);
      if (failLoads > 0) {
        failLoads -= 1;
        throw new PerimeterError('CONFIG_INVALID', 'secretStores.test.caFile: cannot read');
      }
      return full;
    },
    mapError: (error, locator) =>
      error instanceof PerimeterError
        ? error
        : new PerimeterError('SECRET_UNAVAILABLE', `mapped for ${locator}`, { cause: error }),
    closeTimeoutMs: 100,
  });
  return { client, kit, counts, lifetimes, failNextLoads: (n: number) => (failLoads = n) };
}

const signal = (): AbortSignal => AbortSignal.timeout(2_000);

describe('lazy store client', () => {
  it('loads nothing until the first read, then one backend for every caller', async () => {
    const { client, counts } = setup({}, 20);
    client.canonicalize({ locator: 'apps/db' } as SecretRef);
    expect(counts.loads).toBe(0);

    await Promise.all([
      client.fetch(REF, { signal: signal() }),
      client.fetch(REF, { signal: signal() }),
    ]);
    await client.probe!({ signal: signal() });

    expect(counts).toMatchObject({ loads: 1, reads: 2 });
  });

  it('retries a failed load at the next call, passing its PerimeterError through', async () => {
    const { client, counts, failNextLoads } = setup();
    failNextLoads(1);

    await expect(client.fetch(REF, { signal: signal() })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(client.fetch(REF, { signal: signal() })).resolves.toMatchObject({
      versionId: '1',
    });
    expect(counts.loads).toBe(2);
  });

  it('maps backend errors with the locator, or probe for a probe', async () => {
    const { client } = setup({
      read: () => Promise.reject(new Error('socket hang up')),
      probe: () => Promise.reject(new Error('token endpoint down')),
    });

    await expect(client.fetch(REF, { signal: signal() })).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      message: 'mapped for apps/db',
    });
    await expect(client.probe!({ signal: signal() })).rejects.toMatchObject({
      message: 'mapped for probe',
    });
  });

  it('logs each read at debug with locator, duration and outcome', async () => {
    const { client, kit } = setup({ read: () => Promise.reject(new Error('boom')) });
    await client.fetch(REF, { signal: signal() }).catch(() => undefined);

    expect(kit.records).toMatchObject([
      {
        level: 'debug',
        msg: 'secret read',
        store: 'mem',
        profile: 'test',
        locator: 'apps/db',
        outcome: 'SECRET_UNAVAILABLE',
      },
    ]);
    expect(typeof kit.records[0]?.['durationMs']).toBe('number');
  });

  it('rejects with the caller’s reason as soon as it aborts, whatever the backend does', async () => {
    const { client, kit } = setup({ read: () => new Promise<never>(() => undefined) });
    const controller = new AbortController();
    const reason = new PerimeterError('RUN_CANCELLED', 'cancelled');
    setTimeout(() => {
      controller.abort(reason);
    }, 10);

    await expect(client.fetch(REF, { signal: controller.signal })).rejects.toBe(reason);
    expect(kit.records[0]).toMatchObject({ outcome: 'aborted' });
  });

  it('closes once, within its bound, aborting the lifetime and refusing later calls', async () => {
    const { client, counts, lifetimes } = setup({
      close: () => new Promise<never>(() => undefined),
    });
    await client.fetch(REF, { signal: signal() });
    const started = performance.now();

    await Promise.all([client.close(), client.close()]);

    expect(performance.now() - started).toBeLessThan(1_000);
    expect(lifetimes[0]?.aborted).toBe(true);
    await expect(client.fetch(REF, { signal: signal() })).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: false,
    });
    expect(counts.loads).toBe(1);
  });

  it('closes a backend whose load was still in flight when close began', async () => {
    const { client, counts } = setup({}, 30);
    const read = client.fetch(REF, { signal: signal() });

    await client.close();
    await read.catch(() => undefined);

    expect(counts.closes).toBe(1);
  });
});
