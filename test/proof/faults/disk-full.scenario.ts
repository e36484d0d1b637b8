import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../agent/cli/cli.ts';
import { listReviews } from '../../../agent/sink/review.ts';
import { secretStores } from '../../../secrets/index.ts';
import { fixtureConnector } from '../../fakes/fixture/connector.ts';
import { makeCanary } from '../../helpers/canary.ts';
import { captureIo } from '../../helpers/cli-io.ts';
import { deferredCleanup } from '../../helpers/cleanup.ts';
import { writeConfig } from '../../e2e/support/agent.ts';
import { proofRuns } from '../mode.ts';
import { expectAccountedFor, startRig } from './rig.ts';

const defer = deferredCleanup();
const registry = { connectors: [fixtureConnector], stores: secretStores };

/**
 * A 1 MiB tmpfs (the tests run as root), unmounted and removed in cleanup whatever happens, and
 * a filler file that takes every free byte until it is removed: a real ENOSPC from the kernel.
 */
function smallDisk(): { dir: string; fill(): void; free(): void } {
  const mountPoint = mkdtempSync(join(tmpdir(), 'perimeter-disk-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
  defer(() => {
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
    return Promise.resolve();
  });
  const filler = join(mountPoint, 'filler');
  return {
    dir: join(mountPoint, 'review'),
    fill: () => {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4_096, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }
    },
    free: () => {
      rmSync(filler, { force: true });
    },
  };
}

describe('the review area’s disk full', () => {
  it.each(Array.from({ length: proofRuns({ ci: 1, long: 3 }) }, (_, index) => index))(
    'fails the run and the approval with OUTPUT_FAILED, claims nothing half-written, and succeeds once space is freed (round %i)',
    async (round) => {
      const disk = smallDisk();
      const secret = makeCanary('fixture-secret');
      let written: Record<string, unknown> = {};
      const rig = await startRig(`disk-full-${round}`, defer, {
        items: 120,
        secret,
        configure: (config) => {
          written = { ...config, review: { mode: 'every', dir: disk.dir } };
          return written;
        },
      });
      const configPath = writeConfig(written);
      const approve = async (runId: string): Promise<{ code: number; text: string }> => {
        const io = captureIo({ FIXTURE_SECRET: secret, CP_TOKEN: rig.cp.token }, tmpdir());
        const code = await runCli(
          ['review', 'approve', runId, '--config', configPath],
          io,
          registry,
        );
        return { code, text: io.text() };
      };
      const full = `full-${round}`;
      const rerun = `rerun-${round}`;

      disk.fill();
      rig.issue([full]);
      const first = await expectAccountedFor(rig, [full]);
      expect(first.failed).toEqual({ [full]: 'OUTPUT_FAILED' });
      // Nothing of the failed run is claimed complete: no manifest, so no run to review.
      expect(existsSync(join(disk.dir, full, 'manifest.json'))).toBe(false);
      expect(await listReviews(disk.dir)).toEqual([]);

      disk.free();
      rig.issue([rerun]);
      const second = await expectAccountedFor(rig, [full, rerun]);
      expect(second.held).toEqual([rerun]);
      expect((await listReviews(disk.dir)).map((run) => run.runId)).toEqual([rerun]);

      // Approving while the disk is full: a coded failure, the run still undecided.
      disk.fill();
      const refused = await approve(rerun);
      expect(refused.code).not.toBe(0);
      expect(refused.text).toContain('OUTPUT_FAILED');
      expect(existsSync(join(disk.dir, rerun, 'decision.json'))).toBe(false);
      const pushed = (): number =>
        rig.catalog.batches(rerun).reduce((sum, batch) => sum + batch.assets, 0);
      // It had pushed before it failed to record the decision: approving again sends the same keys.
      expect(pushed()).toBe(rig.items);
      expect((await listReviews(disk.dir))[0]?.decision).toBeUndefined();

      disk.free();
      const approved = await approve(rerun);
      expect(approved, approved.text).toMatchObject({ code: 0 });
      expect(pushed()).toBe(rig.items);
      expect(rig.catalog.duplicates).toBeGreaterThan(0);
      expect(rig.catalog.conflicts).toEqual([]);
      expect((await listReviews(disk.dir))[0]?.decision?.decision).toBe('approved');
      expect((await rig.agent.get('/readyz')).status).toBe(200);
    },
  );
});
