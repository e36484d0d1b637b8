import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { findCanary } from '../helpers/canary.ts';
import { createOpenApiChecker } from '../helpers/openapi.ts';
import { startRunWorld } from '../helpers/run-world.ts';
import type { RunWorld } from '../helpers/run-world.ts';

let world: RunWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('a run through the catalog push protocol', () => {
  it('delivers 50,000 assets exactly once while the catalog answers 429 and 503 and drops connections', async () => {
    world = await startRunWorld({ items: 50_000 });
    world.receiver.chaos({ seed: 7, rate429: 0.1, rate503: 0.1, rateDrop: 0.05 });
    const result = await world.runtime.executor.execute(
      world.spec({ runId: 'big-run', settings: { pageSize: 1000 } }),
      { signal: AbortSignal.timeout(120_000) },
    );
    expect(result.assets).toBe(50_000);
    const counts = world.receiver.assetCounts();
    expect(counts.size).toBe(50_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(world.receiver.conflicts).toEqual([]);
    expect(
      (world.receiver.injected.get('status429') ?? 0) +
        (world.receiver.injected.get('status503') ?? 0),
    ).toBeGreaterThan(5);
    expect(world.receiver.completes).toMatchObject([
      // Nothing skipped, nothing reported: whole and trivially reconciled.
      {
        runId: 'big-run',
        assets: 50_000,
        batches: result.batches,
        counts: { partial: false, reconciled: true },
      },
    ]);

    const checker = createOpenApiChecker(
      new URL('../../docs/protocol/catalog.openapi.yaml', import.meta.url),
    );
    const answered = world.receiver.requests.filter((r) => r.outcome !== 'dropped');
    expect(answered.flatMap((r) => checker.check(r))).toEqual([]);
    const bodies = answered.map((r) =>
      r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body,
    );
    expect(
      findCanary(world.canary, { logs: world.logs.text(), bodies: Buffer.concat(bodies) }),
    ).toEqual([]);
  });
});
