import { describe, expect, it } from 'vitest';
import { rejectionOf as rejection } from '../../test/helpers/matchers.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import { setupResolver } from '../../test/helpers/resolver-harness.ts';

const SOFT_MS = 300_000;

describe('resolver cache', () => {
  it('reads once per soft TTL', async () => {
    const { resolver, store, signal, clock } = setupResolver();
    store.put('app/db', 'value-one');
    for (let i = 0; i < 5; i += 1) {
      await resolver.resolve('mem://app/db', { signal });
    }
    expect(store.reads).toBe(1);
    clock.ms += SOFT_MS;
    store.put('app/db', 'value-two');
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-two');
    expect(store.reads).toBe(2);
  });

  it('honours ?max-age= and the profile maxAgeSeconds', async () => {
    const { resolver, store, signal, clock } = setupResolver({
      profiles: { mem: { type: 'mem', allow: ['app/**'], maxAgeSeconds: 120 } },
    });
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db', { signal });
    await resolver.resolve('mem://app/db?max-age=60', { signal });
    expect(store.reads).toBe(1);
    clock.ms += 120_000;
    await resolver.resolve('mem://app/db', { signal });
    expect(store.reads).toBe(2);
  });

  it('caches a pinned version for the pinned TTL', async () => {
    const { resolver, store, signal, clock } = setupResolver();
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db?version=1', { signal });
    clock.ms += 23 * 3_600_000;
    await resolver.resolve('mem://app/db?version=1', { signal });
    expect(store.reads).toBe(1);
  });

  it('caps the TTL of a leased secret at 80% of the lease', async () => {
    const { resolver, store, signal, clock } = setupResolver();
    store.leaseSeconds = 60;
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db', { signal });
    clock.ms += 48_000;
    await resolver.resolve('mem://app/db', { signal });
    expect(store.reads).toBe(2);
  });

  it('shares one read between concurrent misses', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/db', JSON.stringify({ user: 'svc-user', password: 'pa55-word' }));
    store.delayMs = 20;
    const values = await Promise.all(
      ['#user', '#password', '#user', '', '#password'].map((s) =>
        resolver.resolve(`mem://app/db${s}`, { signal }),
      ),
    );
    expect(values.map((v) => v.reveal()).slice(0, 2)).toEqual(['svc-user', 'pa55-word']);
    expect(store.reads).toBe(1);
  });

  it('costs one store read for 500 concurrent runs sharing one reference, each with its own signal', async () => {
    const { resolver, store } = setupResolver();
    store.put('app/db', JSON.stringify({ user: 'svc-user', password: 'pa55-word' }));
    store.delayMs = 20;
    const runs = Array.from({ length: 500 }, () => new AbortController());
    const values = await Promise.all(
      runs.map((run) => resolver.resolve('mem://app/db#password', { signal: run.signal })),
    );
    expect(new Set(values.map((v) => v.reveal()))).toEqual(new Set(['pa55-word']));
    expect(store.reads).toBe(1);
    // Later runs are served from the cache: still one read.
    await Promise.all(
      runs.map((run) => resolver.resolve('mem://app/db#user', { signal: run.signal })),
    );
    expect(store.reads).toBe(1);
  });

  it('refreshes ahead in the background after 80% of the soft TTL', async () => {
    const { resolver, store, signal, clock } = setupResolver();
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db', { signal });
    store.put('app/db', 'value-two');
    clock.ms += 0.8 * SOFT_MS;
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-one');
    await waitFor(() => store.reads === 2, { what: 'the background refresh' });
    await waitFor(
      async () => (await resolver.resolve('mem://app/db', { signal })).reveal() === 'value-two',
    );
    expect(store.reads).toBe(2);
  });

  it('keeps serving when a background refresh fails, without an unhandled rejection', async () => {
    const { resolver, store, signal, clock, logs } = setupResolver();
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db', { signal });
    store.failAll = true;
    clock.ms += 0.8 * SOFT_MS;
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-one');
    await waitFor(() =>
      logs.records().some((r) => r['msg'] === 'secret background refresh failed'),
    );
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-one');
  });

  it('serves the stale value during a burst of transient failures, up to the hard TTL', async () => {
    const { resolver, store, signal, clock, logs, fetches } = setupResolver();
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db', { signal });
    store.failAll = true;
    clock.ms += SOFT_MS;
    for (let i = 0; i < 3; i += 1) {
      expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-one');
    }
    expect(
      logs
        .records()
        .filter((r) => r['msg'] === 'secret store unavailable, serving the cached value'),
    ).toHaveLength(3);
    expect(await fetches()).toMatchObject({ fetched: 1, stale: 3, unavailable: 9 });
    clock.ms += 3_600_000;
    expect(await rejection(resolver.resolve('mem://app/db', { signal }))).toMatchObject({
      code: 'SECRET_UNAVAILABLE',
    });
  });

  it('never serves stale after not found, and remembers the answer for the negative TTL', async () => {
    const { resolver, store, signal, clock } = setupResolver();
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db', { signal });
    store.secrets.delete('app/db');
    clock.ms += SOFT_MS;
    expect(await rejection(resolver.resolve('mem://app/db', { signal }))).toMatchObject({
      code: 'SECRET_NOT_FOUND',
    });
    store.put('app/db', 'value-two');
    store.failAll = true;
    expect(await rejection(resolver.resolve('mem://app/db', { signal }))).toMatchObject({
      code: 'SECRET_NOT_FOUND',
    });
    expect(store.reads).toBe(2);
    clock.ms += 30_000;
    store.failAll = false;
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-two');
  });

  it('never serves stale after access denied', async () => {
    const { resolver, store, signal, clock } = setupResolver();
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db', { signal });
    store.denied.add('app/db');
    clock.ms += SOFT_MS;
    expect(await rejection(resolver.resolve('mem://app/db', { signal }))).toMatchObject({
      code: 'SECRET_ACCESS_DENIED',
    });
  });

  it('returns the rotated value on a forced refresh and after invalidate', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/db', 'value-one');
    await resolver.resolve('mem://app/db', { signal });
    store.put('app/db', 'value-two');
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-one');
    expect((await resolver.resolve('mem://app/db', { signal, forceRefresh: true })).reveal()).toBe(
      'value-two',
    );
    store.put('app/db', 'value-three');
    resolver.invalidate('mem://app/db#anything');
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-three');
    expect(store.reads).toBe(3);
  });
});

describe('resolver reads', () => {
  it('retries an unavailable store with backoff, then succeeds', async () => {
    const { resolver, store, signal, fetches } = setupResolver();
    store.put('app/db', 'value-one');
    store.failures = 2;
    expect((await resolver.resolve('mem://app/db', { signal })).reveal()).toBe('value-one');
    expect(store.reads).toBe(3);
    expect(await fetches()).toEqual({ unavailable: 2, fetched: 1 });
  });

  it('gives up after maxAttempts with a retryable SECRET_UNAVAILABLE', async () => {
    const { resolver, store, signal } = setupResolver({ settings: { maxAttempts: 2 } });
    store.put('app/db', 'value-one');
    store.failAll = true;
    expect(await rejection(resolver.resolve('mem://app/db', { signal }))).toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: true,
    });
    expect(store.reads).toBe(2);
  });

  it('honours a retry-after within retryMaxDelayMs and hands a longer one to the queue', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/db', 'value-one');
    store.failures = 1;
    store.retryAfterMs = 40;
    const started = performance.now();
    await resolver.resolve('mem://app/db', { signal });
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    store.retryAfterMs = 60_000;
    store.failures = 1;
    const error = await rejection(resolver.resolve('mem://app/db', { signal, forceRefresh: true }));
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE', retryAfterMs: 60_000 });
    expect(store.reads).toBe(3);
  });

  it('counts a read slower than fetchTimeoutMs as unavailable', async () => {
    const { resolver, store, signal } = setupResolver({
      settings: { fetchTimeoutMs: 30, maxAttempts: 1 },
    });
    store.put('app/db', 'value-one');
    store.delayMs = 5_000;
    const error = await rejection(resolver.resolve('mem://app/db', { signal }));
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    expect(error.message).toContain('within 30 ms');
    expect(store.signals[0]?.aborted).toBe(true);
  });

  it('gives up at once when its signal aborts, and aborts the read nobody waits for', async () => {
    const { resolver, store } = setupResolver();
    store.put('app/db', 'value-one');
    // Longer than the test may run: only giving up on the abort lets it pass.
    store.delayMs = 60_000;
    const controller = new AbortController();
    const reason = new PerimeterError('RUN_CANCELLED', 'cancelled');
    const pending = rejection(resolver.resolve('mem://app/db', { signal: controller.signal }));
    await waitFor(() => store.reads === 1, { what: 'the read to reach the store' });
    controller.abort(reason);
    expect(await pending).toBe(reason);
    await waitFor(() => store.signals[0]?.aborted);
  });

  it('keeps a shared read going for the callers still waiting when one aborts', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/db', 'value-one');
    store.delayMs = 50;
    const controller = new AbortController();
    const leaving = rejection(resolver.resolve('mem://app/db', { signal: controller.signal }));
    const staying = resolver.resolve('mem://app/db', { signal });
    controller.abort(new PerimeterError('RUN_CANCELLED', 'left'));
    await leaving;
    expect((await staying).reveal()).toBe('value-one');
    expect(store.reads).toBe(1);
  });

  it('aborts reads in flight on close', async () => {
    const { resolver, store, signal } = setupResolver();
    store.put('app/db', 'value-one');
    store.delayMs = 5_000;
    const pending = rejection(resolver.resolve('mem://app/db', { signal }));
    await waitFor(() => store.reads === 1);
    await resolver.close();
    expect(await pending).toMatchObject({ code: 'RUN_ABORTED' });
  });

  it('paces reads with a per-profile token bucket', async () => {
    const { resolver, store, signal } = setupResolver({ settings: { requestsPerSecond: 20 } });
    for (let i = 0; i < 25; i += 1) {
      store.put(`app/s${i}`, `value-${i}`);
    }
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => resolver.resolve(`mem://app/s${i}`, { signal })),
    );
    // 20 tokens of burst, then 5 more at 20 per second: at least 250 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(store.reads).toBe(25);
  });
});
