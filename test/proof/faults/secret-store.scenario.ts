import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { deferredCleanup } from '../../helpers/cleanup.ts';
import { findCanary, makeCanary } from '../../helpers/canary.ts';
import type { VaultFake } from '../../fakes/vault/fake.ts';
import { vaultStore } from '../../helpers/operator-stores.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { proofRuns } from '../mode.ts';
import { expectAccountedFor, startRig } from './rig.ts';

const defer = deferredCleanup();

/** How the store is away: Vault sealed (503 to every call), or its port refusing connections. */
const AWAY = {
  sealed: {
    leave: (fake: VaultFake) => {
      fake.faults.sealed = true;
      return Promise.resolve();
    },
    back: (fake: VaultFake) => {
      fake.faults.sealed = false;
      return Promise.resolve();
    },
  },
  refused: {
    leave: (fake: VaultFake) => fake.unlisten(),
    back: (fake: VaultFake) => fake.listen(),
  },
} as const;

const cases = Array.from({ length: proofRuns({ ci: 1, long: 3 }) }, (_, round) =>
  (['sealed', 'refused'] as const).map((away) => [away, round] as const),
).flat();

describe('the secret store away (sealed, or refusing connections) while runs are issued, then back', () => {
  it.each(cases)(
    'store %s: ends each run accounted for, succeeds on retry once the store is back, and logs no value (round %i)',
    async (away, round) => {
      const canary = makeCanary('vault-credential');
      const store = await vaultStore(canary);
      defer(() => store.close());
      const rig = await startRig(`secret-store-${away}-${round}`, defer, {
        items: 60,
        secret: canary,
        env: store.env,
        configure: (config) => ({
          ...config,
          secretStores: (parseYaml(`secretStores:${store.yaml}`) as { secretStores: unknown })
            .secretStores,
          connections: {
            fx: {
              ...(config['connections'] as { fx: Record<string, unknown> }).fx,
              credentials: { secret: store.ref },
            },
          },
        }),
      });
      await AWAY[away].leave(store.fake);
      const runIds = [`secret-${away}-${round}-a`, `secret-${away}-${round}-b`];
      rig.issue(runIds);
      // The store stays away until each run has met it: a failed attempt naming the code.
      const metSealed = (runId: string): boolean =>
        rig.cp.records
          .runEvents(runId)
          .some(
            (event) =>
              event.type === 'failed' &&
              (event['error'] as { code?: unknown } | undefined)?.code === 'SECRET_UNAVAILABLE',
          );
      await waitFor(() => runIds.every(metSealed), {
        timeoutMs: 30_000,
        what: `each run failing an attempt on the ${away} store`,
      });
      await AWAY[away].back(store.fake);
      const first = await expectAccountedFor(rig, runIds);
      // A run the store's absence ended names the retryable code, never another.
      expect(Object.values(first.failed).every((code) => code === 'SECRET_UNAVAILABLE')).toBe(true);
      const retried = Object.keys(first.failed).map((runId) => `${runId}-retry`);
      if (retried.length > 0) {
        rig.issue(retried);
        const second = await expectAccountedFor(rig, [...runIds, ...retried]);
        expect(second.succeeded).toBe(runIds.length);
      } else {
        expect(first.succeeded).toBe(runIds.length);
      }
      for (const secret of [canary, ...store.credentials()]) {
        expect(findCanary(secret, { logs: rig.agent.output() }), 'a value in the log').toEqual([]);
      }
    },
  );
});
