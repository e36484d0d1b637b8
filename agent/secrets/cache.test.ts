import { describe, expect, it } from 'vitest';
import { PerimeterError } from '../plugin-api/index.ts';
import { SecretCache, valueLifetime } from './cache.ts';
import type { CachePolicy } from './cache.ts';

const policy: CachePolicy = {
  softTtlSeconds: 300,
  hardTtlSeconds: 3600,
  pinnedTtlSeconds: 86_400,
  negativeTtlSeconds: 30,
  maxEntries: 3,
};
const middle = (): number => 0.5;
const floating = {
  fetchedAtMs: 0,
  pinned: false,
  leaseSeconds: undefined,
  maxAgeSeconds: undefined,
};

describe('valueLifetime', () => {
  it('gives a floating version the soft TTL, refresh-ahead at 80% and the hard TTL', () => {
    expect(valueLifetime(floating, policy, middle)).toEqual({
      refreshAtMs: 240_000,
      softExpiresAtMs: 300_000,
      hardExpiresAtMs: 3_600_000,
    });
  });

  it('spreads the soft TTL by ±10%', () => {
    expect(valueLifetime(floating, policy, () => 0).softExpiresAtMs).toBe(270_000);
    expect(valueLifetime(floating, policy, () => 0.999_999).softExpiresAtMs).toBeCloseTo(
      330_000,
      -1,
    );
  });

  it('uses max-age for the soft TTL of a floating version', () => {
    expect(valueLifetime({ ...floating, maxAgeSeconds: 60 }, policy, middle).softExpiresAtMs).toBe(
      60_000,
    );
  });

  it('caches a pinned version for the pinned TTL and never serves it longer', () => {
    const lifetime = valueLifetime(
      { ...floating, pinned: true, maxAgeSeconds: 60 },
      policy,
      middle,
    );
    expect(lifetime).toEqual({
      refreshAtMs: 86_400_000,
      softExpiresAtMs: 86_400_000,
      hardExpiresAtMs: 86_400_000,
    });
  });

  it('caps the TTL of a lease at 80% of it and never serves past the lease', () => {
    const lifetime = valueLifetime({ ...floating, leaseSeconds: 100 }, policy, middle);
    expect(lifetime.softExpiresAtMs).toBe(80_000);
    expect(lifetime.hardExpiresAtMs).toBe(100_000);
  });
});

function cacheAt(clock: { ms: number }): SecretCache {
  return new SecretCache(policy, () => clock.ms);
}

const fetched = (text: string): { value: Buffer; versionId: string } => ({
  value: Buffer.from(text),
  versionId: 'v1',
});

describe('SecretCache', () => {
  it('serves fresh, then asks for a refresh, then is stale, then forgets', () => {
    const clock = { ms: 0 };
    const cache = cacheAt(clock);
    cache.storeValue('k', fetched('value'), valueLifetime(floating, policy, middle));
    expect(cache.lookup('k')).toMatchObject({ state: 'fresh', refresh: false });
    clock.ms = 240_000;
    expect(cache.lookup('k')).toMatchObject({ state: 'fresh', refresh: true });
    clock.ms = 300_000;
    expect(cache.lookup('k')).toMatchObject({ state: 'stale' });
    clock.ms = 3_600_000;
    expect(cache.lookup('k')).toEqual({ state: 'miss' });
    expect(cache.size).toBe(0);
  });

  it('remembers an authoritative failure for the negative TTL and wipes the value it replaces', () => {
    const clock = { ms: 0 };
    const cache = cacheAt(clock);
    const secret = fetched('wipe-me');
    cache.storeValue('k', secret, valueLifetime(floating, policy, middle));
    const error = new PerimeterError('SECRET_NOT_FOUND', 'gone');
    cache.storeFailure('k', error);
    expect(secret.value.every((byte) => byte === 0)).toBe(true);
    expect(cache.lookup('k')).toEqual({ state: 'failure', error });
    clock.ms = 30_000;
    expect(cache.lookup('k')).toEqual({ state: 'miss' });
  });

  it('does not remember failures when the negative TTL is 0', () => {
    const cache = new SecretCache({ ...policy, negativeTtlSeconds: 0 }, () => 0);
    cache.storeFailure('k', new PerimeterError('SECRET_ACCESS_DENIED', 'no'));
    expect(cache.lookup('k')).toEqual({ state: 'miss' });
  });

  it('evicts the least recently used entry beyond maxEntries and zero-fills it', () => {
    const cache = cacheAt({ ms: 0 });
    const lifetime = valueLifetime(floating, policy, middle);
    const first = fetched('first');
    cache.storeValue('a', first, lifetime);
    cache.storeValue('b', fetched('second'), lifetime);
    cache.storeValue('c', fetched('third'), lifetime);
    cache.lookup('a');
    cache.storeValue('d', fetched('fourth'), lifetime);
    expect(cache.size).toBe(3);
    expect(cache.lookup('b')).toEqual({ state: 'miss' });
    expect(cache.lookup('a').state).toBe('fresh');
    cache.storeValue('e', fetched('fifth'), lifetime);
    cache.storeValue('f', fetched('sixth'), lifetime);
    cache.storeValue('g', fetched('seventh'), lifetime);
    expect(first.value.every((byte) => byte === 0)).toBe(true);
  });

  it('wipes a replaced value and everything on clear', () => {
    const cache = cacheAt({ ms: 0 });
    const lifetime = valueLifetime(floating, policy, middle);
    const old = fetched('old');
    const current = fetched('new');
    cache.storeValue('k', old, lifetime);
    cache.storeValue('k', current, lifetime);
    expect(old.value.every((byte) => byte === 0)).toBe(true);
    cache.clear();
    expect(current.value.every((byte) => byte === 0)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('sweeps entries past their hard TTL even when nobody looks them up', () => {
    const clock = { ms: 0 };
    const cache = cacheAt(clock);
    const expiring = fetched('expiring');
    cache.storeValue(
      'old',
      expiring,
      valueLifetime({ ...floating, leaseSeconds: 60 }, policy, middle),
    );
    clock.ms = 61_000;
    cache.lookup('other');
    expect(cache.size).toBe(0);
    expect(expiring.value.every((byte) => byte === 0)).toBe(true);
  });
});
