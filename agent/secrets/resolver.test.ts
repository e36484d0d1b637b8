import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { rejectionOf as rejection, thrownBy as thrown } from '../../test/helpers/matchers.ts';
import { setupResolver } from '../../test/helpers/resolver-harness.ts';
import { SecretValue } from '../plugin-api/index.ts';
import { resolveWithin } from './resolver.ts';

describe('SecretResolver.check', () => {
  it('reports the scheme, profile, canonical locator, version and selector without a read', () => {
    const { resolver, store } = setupResolver();
    expect(resolver.check('mem://app/db/?version=3#/a/b')).toEqual({
      scheme: 'mem',
      profile: 'mem',
      locator: 'app/db',
      version: '3',
      selector: '/a/b',
    });
    expect(store.reads).toBe(0);
  });

  it('names the secretStores entry to add for a scheme without a profile', () => {
    const { resolver } = setupResolver({ profiles: {} });
    const error = thrown(() => resolver.check('mem://app/db'));
    expect(error.code).toBe('SECRET_INVALID_REF');
    expect(error.message).toContain('add secretStores.mem (type: mem, allow: [...])');
    expect(thrown(() => resolver.check('mem://app/db?store=team-a')).message).toContain(
      'add secretStores.team-a (type: mem, allow: [...])',
    );
  });

  it('refuses a profile of another type named by ?store=', () => {
    const { resolver } = setupResolver();
    expect(thrown(() => resolver.check('env://HOME?store=mem')).message).toMatch(
      /profile "mem" is of type mem; a env:\/\/ reference needs/,
    );
  });

  it('refuses a reference outside the profile allowlist before any read', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('prod/db', 'value-123');
    const error = await rejection(resolver.resolve('mem://prod/db', { signal }));
    expect(error.code).toBe('SECRET_REF_DENIED');
    expect(error.message).toContain('secretStores.mem.allow');
    expect(error.context).toEqual({ ref: 'mem://prod/db', profile: 'mem' });
    expect(store.reads).toBe(0);
    expect(store.created).toEqual(['mem']);
  });

  it('applies the inline allowlist of control-plane connections on top of the profile', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/a', 'value-aaa');
    store.put('app/b', 'value-bbb');
    const allowRefs = ['mem://app/a'];
    expect((await resolver.resolve('mem://app/a', { signal, allowRefs })).reveal()).toBe(
      'value-aaa',
    );
    const error = thrown(() => resolver.check('mem://app/b', { allowRefs }));
    expect(error.code).toBe('SECRET_REF_DENIED');
    expect(error.message).toContain('inline allowlist');
    expect(store.reads).toBe(1);
  });

  it('serves env and file through their implicit profiles', async () => {
    const { resolver, signal } = setupResolver({ environment: { CYERA_SECRET: 'from-the-env' } });
    expect((await resolver.resolve('env://CYERA_SECRET', { signal })).reveal()).toBe(
      'from-the-env',
    );
    expect(thrown(() => resolver.check('file:///etc/passwd')).code).toBe('SECRET_REF_DENIED');
    expect(resolver.listProfiles()).toEqual([
      { name: 'mem', scheme: 'mem', implicit: false },
      { name: 'env', scheme: 'env', implicit: true },
      { name: 'file', scheme: 'file', implicit: true },
    ]);
  });
});

describe('SecretResolver.resolve', () => {
  it('reads the whole payload once and applies each selector after the cache', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put(
      'app/db',
      JSON.stringify({ user: 'svc-user', password: 'pa55-word', nested: { key: 'deep-value' } }),
    );
    expect((await resolver.resolve('mem://app/db#user', { signal })).reveal()).toBe('svc-user');
    expect((await resolver.resolve('mem://app/db#password', { signal })).reveal()).toBe(
      'pa55-word',
    );
    expect((await resolver.resolve('mem://app/db#/nested/key', { signal })).reveal()).toBe(
      'deep-value',
    );
    expect(store.reads).toBe(1);
  });

  it('fails a selector on a value that is not JSON, without the value in the error', async () => {
    const canary = makeCanary();
    const { resolver, store, signal } = setupResolver();
    store.put('app/plain', canary);
    const error = await rejection(resolver.resolve('mem://app/plain#password', { signal }));
    expect(error.code).toBe('SECRET_SELECTOR_INVALID');
    expect(
      findCanary(canary, { message: error.message, summary: JSON.stringify(error.toSummary()) }),
    ).toEqual([]);
  });

  it('registers every revealed value with the redactor, so logs never carry it', async () => {
    const canary = makeCanary();
    const { resolver, store, signal, logs } = setupResolver();
    store.put('app/db', JSON.stringify({ password: canary }));
    const value = await resolver.resolve('mem://app/db#password', { signal });
    logs.logger.info({ leaked: value.reveal(), wrapped: value }, 'a careless log line');
    expect(inspect(value)).toBe('SecretValue([redacted])');
    expect(findCanary(canary, { logs: logs.text() })).toEqual([]);
    expect(logs.text()).toContain('a careless log line');
  });

  it('warns once, naming the reference, when a value is too short to redact by value', async () => {
    const { resolver, store, signal, logs } = setupResolver();
    store.put('app/pin', 'abc');
    await resolver.resolve('mem://app/pin', { signal });
    await resolver.resolve('mem://app/pin', { signal });
    const warnings = logs
      .records()
      .filter((r) => r['msg'] === 'secret value too short to be redacted from logs by value');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', ref: 'mem://app/pin', profile: 'mem' });
    expect(logs.text()).not.toContain('"abc"');
  });

  it('logs each resolution at debug with the canonical reference, outcome and duration only', async () => {
    const canary = makeCanary();
    const { resolver, store, signal, logs } = setupResolver();
    store.put('app/db', canary);
    await resolver.resolve('mem://app/db/', { signal });
    await resolver.resolve('mem://app/db', { signal });
    const lines = logs.records().filter((r) => r['msg'] === 'secret resolved');
    expect(lines.map((r) => r['outcome'])).toEqual(['fetched', 'cached']);
    expect(lines[0]).toMatchObject({ level: 'debug', ref: 'mem://app/db', profile: 'mem' });
    expect(typeof lines[0]?.['durationMs']).toBe('number');
    expect(findCanary(canary, { logs: logs.text() })).toEqual([]);
  });

  it('counts reads and cache hits by store and outcome', async () => {
    const { resolver, store, signal, fetches } = setupResolver();
    store.put('app/db', 'value-123');
    await resolver.resolve('mem://app/db', { signal });
    await resolver.resolve('mem://app/db', { signal });
    await rejection(resolver.resolve('mem://app/missing', { signal }));
    expect(await fetches()).toEqual({ fetched: 1, cached: 1, not_found: 1 });
  });

  it('refuses to resolve after close, and close is idempotent and closes each client once', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/db', 'value-123');
    await resolver.resolve('mem://app/db', { signal });
    await Promise.all([resolver.close(), resolver.close()]);
    await resolver.close();
    expect(store.closed).toEqual(['mem']);
    expect((await rejection(resolver.resolve('mem://app/db', { signal }))).code).toBe(
      'RUN_ABORTED',
    );
  });
});

describe('SecretResolver.resolveAll', () => {
  it('resolves a map of credentials', async () => {
    const { resolver, store, signal } = setupResolver({
      environment: { CLIENT_ID: 'client-1234' },
    });
    store.put('app/db', JSON.stringify({ secret: 'secret-5678' }));
    const values = await resolver.resolveAll(
      { clientId: 'env://CLIENT_ID', secret: 'mem://app/db#secret' },
      { signal },
    );
    expect(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.reveal()]))).toEqual({
      clientId: 'client-1234',
      secret: 'secret-5678',
    });
  });

  it('checks every reference before reading any, and names the bad credential', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/db', 'value-123');
    const error = await rejection(
      resolver.resolveAll({ ok: 'mem://app/db', bad: 'mem://prod/x' }, { signal }),
    );
    expect(error.code).toBe('SECRET_REF_DENIED');
    expect(error.message).toMatch(/^Credential "bad": /);
    expect(error.context).toMatchObject({ credential: 'bad', ref: 'mem://prod/x' });
    expect(store.reads).toBe(0);
  });

  it('fails as a whole when one read fails', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/a', 'value-aaa');
    const error = await rejection(
      resolver.resolveAll({ a: 'mem://app/a', b: 'mem://app/b' }, { signal }),
    );
    expect(error.code).toBe('SECRET_NOT_FOUND');
    expect(error.context).toMatchObject({ credential: 'b' });
  });
});

describe('store credentials given as references', () => {
  const profiles = {
    mem: { type: 'mem', allow: ['app/**'], credentialRef: 'env://MEM_TOKEN' },
    loop: { type: 'mem', allow: ['app/**'], credentialRef: 'mem://app/token?store=loop' },
    a: { type: 'mem', allow: ['app/**'], credentialRef: 'mem://app/token?store=b' },
    b: { type: 'mem', allow: ['app/**'], credentialRef: 'mem://app/token?store=a' },
  };

  it('resolves a profile credential through another profile', async () => {
    const { resolver, store, signal } = setupResolver({
      profiles,
      environment: { MEM_TOKEN: 'token-from-env' },
    });
    store.put('app/db', 'value-123');
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-123');
    expect(store.credentials).toEqual(['token-from-env']);
  });

  it('refuses a profile whose credential is read through itself', async () => {
    const { resolver, store, signal } = setupResolver({ profiles });
    store.put('app/db', 'value-123');
    const error = await rejection(resolver.resolve('mem://app/db?store=loop', { signal }));
    expect(error.code).toBe('SECRET_INVALID_REF');
    expect(error.message).toContain('secretStores.loop');
  });

  it('refuses credentials that lead back through a cycle of profiles', async () => {
    const { resolver, store, signal } = setupResolver({ profiles });
    store.put('app/db', 'value-123');
    store.put('app/token', 'token-1234');
    const error = await rejection(resolver.resolve('mem://app/db?store=a', { signal }));
    expect(error.code).toBe('SECRET_INVALID_REF');
    expect(error.message).toMatch(/leads back to/);
  });
});

describe('SecretResolver.probe', () => {
  it("probes a profile's store and refuses an unknown profile", async () => {
    const { resolver, store, signal } = setupResolver();
    await resolver.probe('mem', { signal });
    await resolver.probe('env', { signal });
    expect(store.probed).toEqual(['mem']);
    expect((await rejection(resolver.probe('nope', { signal }))).code).toBe('SECRET_INVALID_REF');
  });

  it('reports a failing or hanging probe as SECRET_UNAVAILABLE', async () => {
    const { resolver, store, signal } = setupResolver({ settings: { fetchTimeoutMs: 30 } });
    store.probeError = new Error('ECONNREFUSED 10.0.0.1:8200');
    const failed = await rejection(resolver.probe('mem', { signal }));
    expect(failed).toMatchObject({ code: 'SECRET_UNAVAILABLE', context: { profile: 'mem' } });
    expect(failed.message).not.toContain('ECONNREFUSED');
    store.probeError = undefined;
    // A probe that waited for the store would succeed after 5 s: only the timeout rejects it.
    store.probeDelayMs = 5_000;
    expect((await rejection(resolver.probe('mem', { signal }))).message).toContain('within 30 ms');
  });
});

describe('resolveWithin', () => {
  it('gives the value, and leaves no timer behind once it is there', async () => {
    const { resolver, store } = setupResolver();
    store.put('app/token', 'the-token-value');
    expect((await resolveWithin(resolver, 'mem://app/token', 30_000)).reveal()).toBe(
      'the-token-value',
    );
    const instant = { resolve: () => Promise.resolve(new SecretValue('instant-value')) };
    vi.useFakeTimers();
    try {
      expect((await resolveWithin(instant, 'mem://app/token', 30_000)).reveal()).toBe(
        'instant-value',
      );
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('fails as SECRET_UNAVAILABLE when the store does not answer in time, and stops the read', async () => {
    let readSignal: AbortSignal | undefined;
    const hanging = {
      resolve: (_ref: string, options: { readonly signal: AbortSignal }) => {
        readSignal = options.signal;
        return new Promise<never>(() => undefined);
      },
    };
    vi.useFakeTimers();
    try {
      const pending = rejection(resolveWithin(hanging, 'mem://app/token', 30_000));
      await vi.advanceTimersByTimeAsync(30_000);
      expect((await pending).code).toBe('SECRET_UNAVAILABLE');
      expect(readSignal?.aborted).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
