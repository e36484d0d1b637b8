import { describe, expect, it } from 'vitest';
import { deferredCleanup } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { proofRuns } from '../mode.ts';
import { expectAccountedFor, startRig } from './rig.ts';

const defer = deferredCleanup();

describe('the catalog answering garbage 200s, very slowly, and storing a batch then losing the answer', () => {
  it.each(Array.from({ length: proofRuns({ ci: 1, long: 3 }) }, (_, index) => index))(
    'accounts for every run with each asset stored once, and the agent ready (round %i)',
    async (round) => {
      const rig = await startRig(`catalog-${round}`, defer, { items: 120 });
      rig.catalog.script(
        { kind: 'garbage' },
        { kind: 'garbage', body: '{"stored":"maybe"}' },
        { kind: 'slow', delayMs: 4_000 },
        { kind: 'drop', when: 'after-store' },
        { kind: 'drop', when: 'after-store', target: 'complete' },
        { kind: 'garbage', target: 'complete' },
      );
      const runIds = [`catalog-${round}-a`, `catalog-${round}-b`];
      rig.issue(runIds);
      const { succeeded, failed } = await expectAccountedFor(rig, runIds);
      expect(succeeded + Object.keys(failed).length).toBe(runIds.length);
      // Every scripted fault was met, and the lost answers made the agent send stored batches again.
      await waitFor(() => rig.catalog.injected.get('garbage') === 3);
      expect(rig.catalog.injected.get('drop-after-store')).toBe(2);
      expect(rig.catalog.injected.get('slow')).toBe(1);
      expect(rig.catalog.duplicates).toBeGreaterThan(0);
      expect(Object.values(failed).every((code) => code.startsWith('CATALOG_'))).toBe(true);
    },
  );
});
