import { describe, expect, it } from 'vitest';
import { deferredCleanup } from '../../helpers/cleanup.ts';
import { proofRuns } from '../mode.ts';
import { expectAccountedFor, startRig } from './rig.ts';

const defer = deferredCleanup();

describe('the control plane flapping every few seconds, and storing an event then losing the answer', () => {
  it.each(Array.from({ length: proofRuns({ ci: 1, long: 3 }) }, (_, index) => index))(
    'delivers every event once and in order, and the agent is ready (round %i)',
    async (round) => {
      const rig = await startRig(`cp-${round}`, defer, { items: 200 });
      rig.source.always({ status: 200, delayMs: 60 });
      rig.cp.fail({ kind: 'drop-after-store', calls: ['events'], count: 3 });
      rig.cp.fail({ kind: 'drop-after-store', calls: ['ack'], count: 1 });
      const runIds = [`cp-${round}-a`, `cp-${round}-b`, `cp-${round}-c`];
      rig.issue(runIds);
      // Down 1.5 s, up 1.5 s, three times while the runs go on.
      for (let flap = 0; flap < 3; flap += 1) {
        await rig.cp.down(1_500);
        await new Promise((resolve) => setTimeout(resolve, 3_000));
      }
      rig.source.restore();
      const { succeeded } = await expectAccountedFor(rig, runIds);
      expect(succeeded).toBe(runIds.length);
      expect(rig.cp.faults.injected.get('drop-after-store')).toBe(4);
      // The answers lost after storing made the agent send those events again: dropped as duplicates.
      expect(rig.cp.records.duplicateEvents).toBeGreaterThan(0);
      // An instruction whose ack answer was lost is delivered again and not run twice.
      expect(
        runIds.map((runId) => rig.catalog.completes.filter((c) => c.runId === runId).length),
      ).toEqual([1, 1, 1]);
    },
  );
});
