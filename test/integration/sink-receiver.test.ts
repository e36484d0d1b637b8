import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticAsset } from '../fakes/catalog/assets.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';

// The receiver is the judge of the sink's integration tests, so it must itself refuse what
// DESIGN §5 does not allow.

let receiver: CatalogReceiver;
afterEach(async () => {
  await receiver.close();
});

const body = (...indexes: number[]): Buffer =>
  gzipSync(indexes.map((index) => `${JSON.stringify(syntheticAsset(index))}\n`).join(''));

async function post(
  path: string,
  options: { headers?: Record<string, string>; body?: Buffer; method?: string } = {},
): Promise<number> {
  const response = await fetch(`${receiver.url}${path}`, {
    method: options.method ?? 'POST',
    headers: {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
      'idempotency-key': 'run-1:0',
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('the catalog receiver fake', () => {
  it('stores a batch once, answers 200 to its repeat and records a conflict when content differs', async () => {
    receiver = await startCatalogReceiver();
    expect(await post('/v1/runs/run-1/batches', { body: body(0, 1) })).toBe(202);
    expect(await post('/v1/runs/run-1/batches', { body: body(0, 1) })).toBe(200);
    expect(receiver.conflicts).toEqual([]);
    expect(await post('/v1/runs/run-1/batches', { body: body(0, 2) })).toBe(200);
    expect(receiver.conflicts.map((conflict) => conflict.key)).toEqual(['run-1:0']);
    expect(receiver.duplicates).toBe(2);
    expect([...receiver.assetCounts().values()]).toEqual([1, 1]);
  });

  it.each([
    ['no gzip', { 'content-encoding': 'identity' }, 415],
    ['another media type', { 'content-type': 'application/json' }, 415],
    ['a key of another run', { 'idempotency-key': 'run-2:0' }, 400],
    ['a key with a padded seq', { 'idempotency-key': 'run-1:01' }, 400],
  ])('refuses a batch with %s', async (_what, headers, status) => {
    receiver = await startCatalogReceiver();
    expect(await post('/v1/runs/run-1/batches', { headers, body: body(0) })).toBe(status);
    expect(receiver.batches()).toEqual([]);
  });

  it('refuses bad gzip, a line failing the asset schema, a wrong token and a GET', async () => {
    receiver = await startCatalogReceiver({ token: 'expected-token' });
    const auth = { authorization: 'Bearer expected-token' };
    expect(await post('/v1/runs/run-1/batches', { headers: auth, body: Buffer.from('nope') })).toBe(
      400,
    );
    const invalid = gzipSync(`${JSON.stringify({ ...syntheticAsset(0), name: 7 })}\n`);
    expect(await post('/v1/runs/run-1/batches', { headers: auth, body: invalid })).toBe(400);
    expect(await post('/v1/runs/run-1/batches', { body: body(0) })).toBe(401);
    expect(await post('/v1/runs/run-1/batches', { method: 'GET', headers: auth })).toBe(405);
    expect(await post('/v1/runs/run-1/batches', { headers: auth, body: body(0) })).toBe(202);
  });

  it('accepts complete only when every claimed batch and asset is stored', async () => {
    receiver = await startCatalogReceiver();
    await post('/v1/runs/run-1/batches', { body: body(0, 1) });
    const complete = (claim: object): Promise<number> =>
      post('/v1/runs/run-1/complete', {
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(claim)),
      });
    expect(await complete({ assets: 2, batches: 2, complete: true })).toBe(409);
    expect(await complete({ assets: 3, batches: 1, complete: true })).toBe(409);
    expect(await complete({ assets: 2, batches: 1 })).toBe(400);
    expect(await complete({ assets: 2, batches: 1, complete: true })).toBe(200);
    expect(receiver.completes).toEqual([{ runId: 'run-1', assets: 2, batches: 1 }]);
  });

  it('replays the same probabilistic faults for the same seed', async () => {
    receiver = await startCatalogReceiver();
    const statuses = async (): Promise<number[]> => {
      receiver.chaos({ seed: 42, rate429: 0.3, rate503: 0.3 });
      const seen: number[] = [];
      for (let seq = 0; seq < 20; seq += 1) {
        seen.push(
          await post('/v1/runs/run-1/batches', {
            headers: { 'idempotency-key': `run-1:${seq}` },
            body: body(seq),
          }),
        );
      }
      return seen;
    };
    const first = await statuses();
    const second = await statuses();
    expect(first.map((status) => status === 429 || status === 503)).toEqual(
      second.map((status) => status === 429 || status === 503),
    );
    expect(first.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(first.filter((status) => status === 503).length).toBeGreaterThan(0);
  });
});
