import { describe, expect, it } from 'vitest';
import { deferredCleanup } from '../../helpers/cleanup.ts';
import { proofRuns } from '../mode.ts';
import { expectAccountedFor, startRig } from './rig.ts';

const defer = deferredCleanup();

describe('a source stream that stalls without closing', () => {
  it.each(Array.from({ length: proofRuns({ ci: 1, long: 3 }) }, (_, index) => index))(
    'gives up on the silent stream after http.bodyTimeoutMs and finishes every run (round %i)',
    async (round) => {
      const rig = await startRig(`stall-${round}`, defer, {
        items: 100,
        configure: (config) => ({ ...config, http: { bodyTimeoutMs: 1_500 } }),
      });
      // Two page requests answer headers and half a body, then fall silent with the socket open.
      rig.source.script({ status: 200, stall: true }, { status: 200, stall: true });
      const runIds = [`stall-${round}-a`, `stall-${round}-b`];
      rig.issue(runIds);
      const { succeeded, failed } = await expectAccountedFor(rig, runIds);
      expect(failed).toEqual({});
      expect(succeeded).toBe(runIds.length);
      // The two stalled pages were asked for again: 5 pages of 20 per run, and 2 more.
      const pageRequests = rig.source.requests().filter((r) => r === 'GET /v1/items').length;
      expect(pageRequests).toBeGreaterThanOrEqual(2 * 5 + 2);
    },
  );
});
