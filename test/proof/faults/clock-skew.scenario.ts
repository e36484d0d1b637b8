import { describe, expect, it } from 'vitest';
import { deferredCleanup } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { expectAccountedFor, startRig } from './rig.ts';

const defer = deferredCleanup();
const SKEW_S = 60;
const MINUTE = 60_000;

describe('clock skew on instruction expiry', () => {
  it('runs instructions dated ahead or behind within the allowed skew, refuses those beyond it with INSTRUCTION_EXPIRED', async () => {
    const rig = await startRig('skew', defer, {
      items: 40,
      configure: (config) => ({
        ...config,
        controlPlane: {
          ...(config['controlPlane'] as Record<string, unknown>),
          maxClockSkewSeconds: SKEW_S,
        },
      }),
    });
    const cases = [
      // [runId, shift of issuedAt, validity window]: the window ends at shift + ttl.
      ['ahead-within', 0.5 * MINUTE, 10 * MINUTE, true],
      ['behind-within', -10.5 * MINUTE, 10 * MINUTE, true],
      ['ahead-beyond', 2 * MINUTE, 10 * MINUTE, false],
      ['behind-beyond', -12 * MINUTE, 10 * MINUTE, false],
    ] as const;
    const ids = new Map<string, string>();
    for (const [runId, shiftMs, ttlMs] of cases) {
      ids.set(runId, `ins-${runId}`);
      rig.issue([runId], { id: `ins-${runId}`, shiftMs, ttlMs });
    }
    const accepted = cases.filter((c) => c[3]).map((c) => c[0]);
    await expectAccountedFor(rig, accepted);
    await waitFor(() => cases.every(([runId]) => rig.cp.records.acksOf(`ins-${runId}`).length > 0));
    for (const [runId, , , runs] of cases) {
      const ack = rig.cp.records.acksOf(`ins-${runId}`)[0];
      expect(ack?.accepted, runId).toBe(runs);
      if (!runs) {
        expect(ack?.code, runId).toBe('INSTRUCTION_EXPIRED');
        expect(rig.cp.records.runEvents(runId), runId).toEqual([]);
      }
    }
  });
});
