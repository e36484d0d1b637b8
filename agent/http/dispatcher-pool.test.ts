import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../plugin-api/index.ts';
import type { HttpClient, HttpResponse } from '../plugin-api/index.ts';
import { closedAfterEach, rejectionOf, sendJson } from '../../test/helpers/loopback.ts';
import { DispatcherPool, MAX_IDLE_DISPATCHERS, dispatcherKey } from './dispatcher-pool.ts';
import type { DispatcherLease } from './dispatcher-pool.ts';

const { server, client } = closedAfterEach();
const pools: DispatcherPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map(async (pool) => pool.close()));
});

function newPool(): DispatcherPool {
  const pool = new DispatcherPool();
  pools.push(pool);
  return pool;
}

const RUNS = 6;
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

/** A GET of `path` on `origin`. */
function get(http: HttpClient, origin: string, path = '/x'): Promise<HttpResponse> {
  return http.request({ method: 'GET', url: `${origin}${path}`, signal: signal() });
}

const answerOk = (_request: unknown, response: ServerResponse): void => {
  sendJson(response, 200, { ok: true });
};

type FakeDispatcher = Dispatcher & { readonly closes: number };

/** How many times a lease's stand-in dispatcher was closed. */
const closesOf = (lease: DispatcherLease): number => (lease.dispatcher as FakeDispatcher).closes;

/** A stand-in dispatcher that only counts its close. */
function fakeDispatcher(): FakeDispatcher {
  const fake = {
    closes: 0,
    close: () => {
      fake.closes += 1;
      return Promise.resolve();
    },
  };
  return fake as unknown as FakeDispatcher;
}

describe('HTTP clients on a shared dispatcher pool', () => {
  // One run after another: each request finds the connection of the run before it free, or,
  // when that one is still being handed back, opens a second one; never more.
  it('lets the next runs of a source reuse the connections the runs before them opened', async () => {
    const target = await server(answerOk);
    const dispatchers = newPool();
    for (let run = 0; run < RUNS; run += 1) {
      const { client: http } = client({ allowedHosts: [target.hostPattern] }, { dispatchers });
      const response = await get(http, target.origin);
      await response.text();
      await http.close();
    }
    expect(target.requests).toHaveLength(RUNS);
    expect(target.connections()).toBeLessThanOrEqual(2);
    expect(dispatchers.size).toBe(1);
  });

  it('gives each client its own connections without a pool', async () => {
    const target = await server(answerOk);
    for (let run = 0; run < RUNS; run += 1) {
      const { client: http } = client({ allowedHosts: [target.hostPattern] });
      await (await get(http, target.origin)).text();
      await http.close();
    }
    expect(target.connections()).toBe(RUNS);
  });

  it('ends a closed client’s request in flight, and only its own', async () => {
    const held: (() => void)[] = [];
    const target = await server((request, response) => {
      if (request.url === '/hold') {
        held.push(() => {
          sendJson(response, 200, { late: true });
        });
        return;
      }
      sendJson(response, 200, { ok: true });
    });
    const dispatchers = newPool();
    const policy = { allowedHosts: [target.hostPattern] };
    const { client: finished } = client(policy, { dispatchers });
    const { client: other } = client(policy, { dispatchers });
    const inFlight = get(finished, target.origin, '/hold');
    await expect.poll(() => held.length).toBe(1);
    await finished.close();
    const error = await rejectionOf(inFlight);
    expect(isPerimeterError(error, 'RUN_ABORTED')).toBe(true);
    const response = await get(other, target.origin);
    expect(response.status).toBe(200);
    await response.text();
    held.forEach((answer) => {
      answer();
    });
  });

  it('ends a response body the run left unread when its client closes', async () => {
    const target = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[');
      // The rest never comes: the body stays open until the client ends it.
    });
    const dispatchers = newPool();
    const { client: http } = client({ allowedHosts: [target.hostPattern] }, { dispatchers });
    const response = await get(http, target.origin);
    await http.close();
    const error = await rejectionOf(response.text());
    expect(isPerimeterError(error, 'RUN_ABORTED')).toBe(true);
  });

  it('keeps clients with different trust or client certificates on different dispatchers', () => {
    const base = [{ connectTimeoutMs: 1 }, undefined, undefined, undefined];
    const withCa = [{ connectTimeoutMs: 1 }, 'CA PEM', undefined, undefined];
    const withCert = [{ connectTimeoutMs: 1 }, undefined, undefined, { certPem: 'c', keyPem: 'k' }];
    const keys = new Set([base, withCa, withCert].map((parts) => dispatcherKey(parts)));
    expect(keys.size).toBe(3);
    expect(dispatcherKey(base)).toBe(
      dispatcherKey([{ connectTimeoutMs: 1 }, undefined, undefined, undefined]),
    );
    expect(dispatcherKey(withCert)).not.toContain('k');
  });
});

describe('DispatcherPool', () => {
  it('closes the least recently used idle dispatchers past its limit, never one in use', () => {
    const pool = newPool();
    const inUse = pool.lease('in-use', fakeDispatcher);
    const made: FakeDispatcher[] = [];
    for (let index = 0; index < MAX_IDLE_DISPATCHERS + 2; index += 1) {
      pool
        .lease(`idle-${String(index)}`, () => {
          const fake = fakeDispatcher();
          made.push(fake);
          return fake;
        })
        .release();
    }
    expect(pool.size).toBe(MAX_IDLE_DISPATCHERS + 1);
    expect(made.map((fake) => fake.closes)).toEqual([
      1,
      1,
      ...Array<number>(MAX_IDLE_DISPATCHERS).fill(0),
    ]);
    expect(closesOf(inUse)).toBe(0);
  });

  it('counts a release once, and keeps a dispatcher while another client holds it', () => {
    const pool = newPool();
    const first = pool.lease('k', fakeDispatcher);
    const second = pool.lease('k', fakeDispatcher);
    expect(second.dispatcher).toBe(first.dispatcher);
    first.release();
    first.release();
    for (let index = 0; index < MAX_IDLE_DISPATCHERS + 1; index += 1) {
      pool.lease(`other-${String(index)}`, fakeDispatcher).release();
    }
    expect(closesOf(first)).toBe(0);
    second.release();
  });

  it('closes everything once, and gives a lease taken after close a dispatcher of its own', async () => {
    const pool = newPool();
    const held = pool.lease('a', fakeDispatcher);
    await Promise.all([pool.close(), pool.close()]);
    expect(closesOf(held)).toBe(1);
    expect(pool.size).toBe(0);
    const late = pool.lease('a', fakeDispatcher);
    expect(late.dispatcher).not.toBe(held.dispatcher);
    late.release();
    await expect.poll(() => closesOf(late)).toBe(1);
  });
});
