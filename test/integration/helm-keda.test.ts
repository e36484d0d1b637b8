// The KEDA ScaledObject of the chart watches the lists BullMQ really keeps: a queued run shows in
// the `waiting` trigger's list, a run a worker took in the `active` one, on the real Redis, under
// the key prefix the agent itself computes from the config the chart renders.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.ts';
import { QUEUE_NAME } from '../../agent/queue/queue.ts';
import { createRedisConnections } from '../../agent/queue/redis.ts';
import { connectors } from '../../connectors/index.ts';
import { secretStores } from '../../secrets/index.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import { CI_VALUES, configOf, renderChart } from '../helpers/chart.ts';
import type { Manifest } from '../helpers/chart.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { queueHarness, runSpec } from './support/queue-harness.ts';
import { REDIS_URL, uniquePrefix } from './support/redis.ts';

const KEDA_VALUES = join(CI_VALUES, 'keda-values.yaml');

interface Trigger {
  name: string;
  type: string;
  metadata: Record<string, string>;
}

const listsOf = (manifests: readonly Manifest[]): Record<string, Trigger> =>
  Object.fromEntries(
    (
      manifests.find((m) => m.kind === 'ScaledObject')?.spec as { triggers: Trigger[] }
    ).triggers.map((trigger) => [trigger.name, trigger]),
  );

/** The key prefix the agent uses with the config the chart renders (hash-tagged on a Cluster). */
function agentPrefix(manifests: readonly Manifest[]): string {
  const config = loadConfig(
    { env: {}, file: { path: 'perimeter.yaml', text: configOf(manifests) } },
    { connectors, stores: secretStores },
  );
  return createRedisConnections({ settings: config.redis, logger: captureLogs().logger }).prefix;
}

const cleanup = deferredCleanup();

describe('the KEDA redis trigger', () => {
  it.each([
    [
      'standalone',
      'rediss://redis.data.svc:6380/3',
      'redis',
      { address: 'redis.data.svc:6380', databaseIndex: '3', enableTLS: 'true' },
    ],
    [
      'Sentinel',
      'redis-sentinel://s0.redis.svc,s1.redis.svc:26380/main/2',
      'redis-sentinel',
      {
        addresses: 's0.redis.svc:26379,s1.redis.svc:26380',
        sentinelMaster: 'main',
        databaseIndex: '2',
        enableTLS: 'false',
      },
    ],
    [
      'Cluster',
      'rediss-cluster://n0.redis.svc:6379,n1.redis.svc',
      'redis-cluster',
      { addresses: 'n0.redis.svc:6379,n1.redis.svc:6379', enableTLS: 'true' },
    ],
  ])(
    'reads a %s Redis at the addresses and under the prefix the agent uses',
    (_kind, url, type, metadata) => {
      const manifests = renderChart([KEDA_VALUES], {
        redis: { url, prefix: 'acme', inChart: { enabled: false } },
      });
      const lists = listsOf(manifests);
      const prefix = agentPrefix(manifests);
      expect(lists['waiting']).toMatchObject({
        type,
        metadata: { ...metadata, listName: `${prefix}:runs:wait` },
      });
      expect(lists['active']).toMatchObject({
        type,
        metadata: { ...metadata, listName: `${prefix}:runs:active` },
      });
    },
  );

  it('counts a queued run in the waiting list and a taken run in the active list', async () => {
    const raw = uniquePrefix('keda');
    const harness = queueHarness(raw);
    cleanup(() => harness.close());
    const lists = listsOf(renderChart([KEDA_VALUES], { redis: { prefix: raw } }));
    const waiting = lists['waiting']?.metadata['listName'] ?? '';
    const active = lists['active']?.metadata['listName'] ?? '';
    const redis = new Redis(REDIS_URL);
    cleanup(async () => {
      await redis.quit();
    });
    const lengths = async (): Promise<[number, number]> => [
      await redis.llen(waiting),
      await redis.llen(active),
    ];

    expect(await lengths()).toEqual([0, 0]);
    const node = harness.node();
    await node.side.target.enqueueRun(runSpec('keda-run-1'));
    await node.side.target.enqueueRun(runSpec('keda-run-2'));
    expect(await lengths()).toEqual([2, 0]);

    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    cleanup(async () => {
      await connection.quit();
    });
    const worker = new Worker(QUEUE_NAME, null, {
      connection,
      prefix: harness.prefix,
      autorun: false,
    });
    cleanup(() => worker.close(true));
    const job = await worker.getNextJob('keda-test-token');
    expect(job.id).toBe('keda-run-1');
    expect(await lengths()).toEqual([1, 1]);
  });
});
