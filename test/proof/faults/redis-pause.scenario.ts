import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deferredCleanup } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { startRedisServer } from '../../e2e/support/redis-server.ts';
import { proofRuns } from '../mode.ts';
import { expectAccountedFor, startRig } from './rig.ts';

const defer = deferredCleanup();
const LOCK_MS = 2_000;

describe('Redis paused longer than the job lock', () => {
  // DEBUG SLEEP blocks the whole server while the wall clock runs on, so the run's lock key
  // (PX) has expired when it wakes: BullMQ's stalled check hands the run to a new attempt while
  // the first one is still working. CLIENT PAUSE would not do: it also pauses key expiry.
  it.each(Array.from({ length: proofRuns({ ci: 1, long: 3 }) }, (_, index) => index))(
    'ends each run exactly once, with every asset stored once, and the agent ready (round %i)',
    async (round) => {
      const server = await startRedisServer({ extraArgs: ['--enable-debug-command', 'yes'] });
      defer(() => server.close());
      const rig = await startRig(`redis-pause-${round}`, defer, {
        redisUrl: server.url,
        items: 200,
        queue: { lockDurationMs: LOCK_MS, stalledIntervalMs: 500 },
      });
      rig.source.always({ status: 200, delayMs: 80 });
      const runIds = [`pause-${round}-a`, `pause-${round}-b`];
      rig.issue(runIds);
      await waitFor(() => rig.catalog.batches().length >= 2, { timeoutMs: 30_000 });
      const sleeper = new Redis(server.url, { maxRetriesPerRequest: null });
      defer(() => {
        sleeper.disconnect();
        return Promise.resolve();
      });
      await sleeper.call('DEBUG', 'SLEEP', String((LOCK_MS * 2) / 1_000));
      rig.source.restore();
      const { succeeded } = await expectAccountedFor(rig, runIds);
      expect(succeeded).toBe(runIds.length);
      expect(rig.agent.records().some((r) => r.msg === 'Run locks could not be renewed')).toBe(
        true,
      );
    },
  );
});
