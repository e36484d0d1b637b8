import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisInstructionLedger } from '../../agent/link/ledger.ts';
import { AGENT_ID, startLinkHarness } from '../helpers/link-harness.ts';
import type { LinkHarness } from '../helpers/link-harness.ts';
import { startFakeControlPlane } from '../fakes/control-plane/server.ts';
import type { FakeControlPlane } from '../fakes/control-plane/server.ts';
import { runDraft } from '../fakes/control-plane/signing.ts';
import { freePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, keysOf, uniquePrefix } from './support/redis.ts';

let redis: Redis;
const prefixes: string[] = [];

function prefix(): string {
  const value = uniquePrefix('link-ledger');
  prefixes.push(value);
  return value;
}

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const value of prefixes) {
    await deleteKeys(redis, value);
  }
  await redis.quit();
});

describe('the Redis instruction ledger', () => {
  it('records an id once and keeps it until the instruction expires', async () => {
    const keyPrefix = prefix();
    const ledger = createRedisInstructionLedger({ redis, prefix: keyPrefix });
    const expiresAtMs = Date.now() + 60_000;
    expect(await ledger.firstSeen('ins-1', expiresAtMs)).toBe(true);
    expect(await ledger.firstSeen('ins-1', expiresAtMs)).toBe(false);
    expect(await ledger.firstSeen('ins-2', expiresAtMs)).toBe(true);
    expect((await keysOf(redis, keyPrefix)).sort()).toEqual([
      `${keyPrefix}:link:instructions:ins-1`,
      `${keyPrefix}:link:instructions:ins-2`,
    ]);
    const ttlMs = await redis.pttl(`${keyPrefix}:link:instructions:ins-1`);
    expect(ttlMs).toBeGreaterThan(55_000);
    expect(ttlMs).toBeLessThanOrEqual(60_000);
    expect(await redis.get(`${keyPrefix}:link:instructions:ins-1`)).toBe('1');
  });

  it('forgets an id on request, and by itself once the instruction expired', async () => {
    const ledger = createRedisInstructionLedger({ redis, prefix: prefix() });
    await ledger.firstSeen('ins-1', Date.now() + 60_000);
    await ledger.forget('ins-1');
    expect(await ledger.firstSeen('ins-1', Date.now() + 60_000)).toBe(true);
    // An instruction at the edge of its window is still kept for a second.
    expect(await ledger.firstSeen('ins-edge', Date.now() - 5000)).toBe(true);
    expect(await ledger.firstSeen('ins-edge', Date.now() - 5000)).toBe(false);
    await sleep(1100);
    expect(await ledger.firstSeen('ins-edge', Date.now() + 60_000)).toBe(true);
  });

  it('reports an unreachable Redis as REDIS_UNAVAILABLE', async () => {
    const down = new Redis({
      port: await freePort(),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const ledger = createRedisInstructionLedger({ redis: down, prefix: 'unused' });
    await expect(ledger.firstSeen('ins-1', Date.now() + 60_000)).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
      retryable: true,
    });
    down.disconnect();
  });
});

describe('two link replicas sharing the Redis ledger', () => {
  let fake: FakeControlPlane;
  const replicas: LinkHarness[] = [];

  beforeAll(async () => {
    fake = await startFakeControlPlane({ leaseMs: 300 });
  });

  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((replica) => replica.close()));
  });

  afterAll(async () => {
    await fake.close();
  });

  it('apply an instruction once when one lost its ack and the other gets it again', async () => {
    const keyPrefix = prefix();
    const replica = (): Promise<LinkHarness> =>
      startLinkHarness({
        sharedFake: fake,
        ledger: createRedisInstructionLedger({ redis, prefix: keyPrefix }),
      });
    const first = await replica();
    replicas.push(first);
    fake.fail({ kind: 'status', status: 503, count: 1, calls: ['ack'] });
    const instruction = runDraft({ runId: 'run-shared', connectionId: 'fixture-main' });
    const id = instruction['id'] as string;
    fake.issue(instruction, AGENT_ID);
    await waitFor(
      () =>
        fake.records.requests.some(
          (r) => r.path === `/v1/instructions/${id}/ack` && r.status === 503,
        ),
      {
        what: 'the lost ack',
      },
    );
    await first.link.stop();
    const second = await replica();
    replicas.push(second);
    await waitFor(() => fake.records.acksOf(id)[0], { what: 'the ack of the second replica' });
    // On a busy machine the 300 ms lease may lapse once more before an ack lands: the
    // instruction is then delivered again, and must still be applied only once.
    expect(fake.deliveries(id)).toBeGreaterThanOrEqual(2);
    expect([first.target.callsFor('run-shared'), second.target.callsFor('run-shared')]).toEqual([
      1, 0,
    ]);
    const acks = fake.records.acksOf(id);
    expect(acks.length).toBeGreaterThanOrEqual(1);
    expect(acks.every((ack) => ack.accepted)).toBe(true);
  });
});
