import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { startCatalogReceiver } from '../../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../../fakes/catalog-receiver.ts';
import { runDraft, startFakeControlPlane } from '../../fakes/control-plane/server.ts';
import type { FakeControlPlane, ReceivedEvent } from '../../fakes/control-plane/server.ts';
import type { DraftOptions } from '../../fakes/control-plane/signing.ts';
import { startFixtureSource } from '../../fakes/fixture/source.ts';
import type { FixtureSource } from '../../fakes/fixture/source.ts';
import { makeCanary } from '../../helpers/canary.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from '../../e2e/support/agent.ts';
import type { AgentProcess } from '../../e2e/support/agent.ts';
import { e2eConfig } from '../../e2e/support/config.ts';

/**
 * One fault scenario's world: the agent as a child process (link and worker), real Redis, the
 * fixture source, the fake catalog and the fake control plane, which issues every run so that
 * each run's events can be counted. Built on the e2e helpers (test/e2e/support).
 */
export interface FaultRig {
  readonly agent: AgentProcess;
  readonly source: FixtureSource;
  readonly catalog: CatalogReceiver;
  readonly cp: FakeControlPlane;
  readonly items: number;
  readonly agentId: string;
  /** Issues signed extract runs of the fixture connection; returns their run ids. */
  issue(runIds: readonly string[], options?: DraftOptions): void;
  /** Waits until each run has a final event; returns them. */
  settled(runIds: readonly string[], timeoutMs?: number): Promise<Map<string, ReceivedEvent>>;
}

/** What a scenario changes in the standard setup. */
export interface RigOptions {
  readonly items?: number;
  readonly pageSize?: number;
  readonly redisUrl?: string;
  readonly queue?: Record<string, unknown>;
  /** Edits the config before it is written (secret stores, output sinks, skew …). */
  readonly configure?: (config: Record<string, unknown>) => Record<string, unknown>;
  readonly env?: Readonly<Record<string, string>>;
  /** The source's credential (a canary by default): a scenario that keeps it in a store sets it. */
  readonly secret?: string;
}

const FINAL = new Set(['succeeded', 'cancelled', 'awaiting_review']);

/** A final event: succeeded, cancelled, held for review, or failed with no retry to come. */
export function isFinal(event: ReceivedEvent): boolean {
  return FINAL.has(event.type) || (event.type === 'failed' && event['willRetry'] === false);
}

/** Starts a rig; every part is torn down through `defer`, last started first. */
export async function startRig(
  name: string,
  defer: (step: () => Promise<void>) => void,
  options: RigOptions = {},
): Promise<FaultRig> {
  const items = options.items ?? 120;
  const canary = options.secret ?? makeCanary('fixture-secret');
  const source = await startFixtureSource({ items, secret: canary });
  defer(() => source.close());
  const catalog = await startCatalogReceiver();
  defer(() => catalog.close());
  const cp = await startFakeControlPlane({ leaseMs: 5_000 });
  defer(() => cp.close());
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const prefix = uniquePrefix(`proof-${name}`);
  defer(async () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    await deleteKeys(redis, prefix).catch(() => undefined);
    redis.disconnect();
  });
  const agentId = `proof-${name}`;
  const base = e2eConfig({
    redisUrl,
    prefix,
    catalogUrl: catalog.url,
    sourceUrl: source.url,
    agentId,
    pageSize: options.pageSize ?? 20,
    runsPerConnection: 4,
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    controlPlane: {
      url: cp.url,
      agentToken: 'env://CP_TOKEN',
      publicKey: cp.signer.publicKeyPem,
      pollWaitSeconds: 1,
      heartbeatIntervalSeconds: 1,
      backoff: { baseMs: 100, maxMs: 1_000 },
    },
  });
  const config = options.configure?.(base) ?? base;
  const agent = await spawnAgent({
    name,
    configPath: writeConfig(config),
    // A busy machine may take long to load the agent's modules: the start is not the fault.
    startTimeoutMs: 90_000,
    env: { FIXTURE_SECRET: canary, CP_TOKEN: cp.token, ...options.env },
  });
  defer(() => stopAgent(agent));
  const finals = (runId: string): ReceivedEvent[] => cp.records.runEvents(runId).filter(isFinal);
  return {
    agent,
    source,
    catalog,
    cp,
    items,
    agentId,
    issue: (runIds, draftOptions) => {
      cp.issue(
        runIds.map((runId) =>
          cp.signer.sign(runDraft({ runId, connectionId: 'fx' }, draftOptions)),
        ),
        agentId,
      );
    },
    settled: async (runIds, timeoutMs = 60_000) => {
      await waitFor(() => runIds.every((runId) => finals(runId).length > 0), {
        timeoutMs,
        intervalMs: 100,
        what: `a final event of ${runIds.join(', ')}`,
      });
      return new Map(runIds.map((runId) => [runId, finals(runId)[0]!]));
    },
  };
}

/**
 * The end state every fault scenario must reach: each run accounted for (succeeded, held for
 * review with nothing pushed, or failed with a code) with exactly one final event and no gap in its events; each succeeded run's
 * assets in the catalog exactly once (no conflicting re-send); and the agent ready again.
 */
export async function expectAccountedFor(
  rig: FaultRig,
  runIds: readonly string[],
): Promise<{ succeeded: number; failed: Record<string, string>; held: string[] }> {
  const finals = await rig.settled(runIds);
  const failed: Record<string, string> = {};
  const held: string[] = [];
  let succeeded = 0;
  for (const runId of runIds) {
    const events = rig.cp.records.runEvents(runId);
    // No event lost, none doubled: seq 0..n-1 and a single final event (waiting a moment for a
    // late second one costs nothing when there is none).
    expect(
      events.map((event) => event.seq),
      runId,
    ).toEqual(events.map((_, index) => index));
    expect(
      events.filter(isFinal).map((event) => event.type),
      runId,
    ).toHaveLength(1);
    const final = finals.get(runId);
    if (final?.type === 'succeeded') {
      succeeded += 1;
      const stored = rig.catalog.batches(runId).reduce((sum, batch) => sum + batch.assets, 0);
      expect(stored, `${runId}: assets stored`).toBe(rig.items);
      // `complete` is idempotent per run: an attempt that lost its lock may have sent it too.
      const completes = rig.catalog.completes.filter((call) => call.runId === runId);
      expect(completes.length, `${runId}: complete calls`).toBeGreaterThan(0);
      expect(new Set(completes.map((call) => `${call.assets}/${call.batches}`)).size).toBe(1);
    } else if (final?.type === 'awaiting_review') {
      // Held for review: written to the review area, nothing pushed until it is approved.
      held.push(runId);
      expect(rig.catalog.batches(runId), `${runId}: held, yet pushed`).toEqual([]);
    } else {
      const code = (final?.['error'] as { code?: unknown } | undefined)?.code;
      expect(final?.type, runId).toBe('failed');
      expect(code, `${runId}: a failed run names its code`).toMatch(/^[A-Z_]+$/);
      failed[runId] = String(code);
    }
  }
  expect(rig.catalog.conflicts).toEqual([]);
  // Every asset once per succeeded run (runs of one connection store the same names).
  expect([...rig.catalog.assetCounts().values()].every((count) => count === succeeded)).toBe(true);
  await waitFor(async () => (await rig.agent.get('/readyz')).status === 200, {
    timeoutMs: 20_000,
    what: `${rig.agent.name}: /readyz 200 again`,
  });
  return { succeeded, failed, held };
}

export { stopAgent };
