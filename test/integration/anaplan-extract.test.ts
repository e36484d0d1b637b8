import { describe, expect, it } from 'vitest';
import type { RunCheckpoint, Sink, SinkSummary } from '../../agent/sink/types.ts';
import { connector } from '../../connectors/anaplan/index.ts';
import type { AnaplanContext } from '../../connectors/anaplan/extract.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import { catalogSinkHarness } from '../fakes/catalog/sink-harness.ts';
import { startAnaplanHarness } from '../fakes/anaplan/harness.ts';
import { makeUserCertificate } from '../fakes/anaplan/pki.ts';
import type { AnaplanTenantSize } from '../fakes/anaplan/tenant.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';

const defer = deferredCleanup();

/** Drives connector → catalog sink as the run executor does. */
async function pushExtract(
  sink: Sink,
  ctx: AnaplanContext,
): Promise<{ commits: RunCheckpoint[]; summary?: SinkSummary; error?: unknown }> {
  const commits: RunCheckpoint[] = [];
  const run = sink.open({
    runId: 'anaplan-run',
    connector: 'anaplan',
    signal: ctx.signal,
    onCommit: (checkpoint) => {
      commits.push(checkpoint);
      return Promise.resolve();
    },
  });
  try {
    for await (const event of connector.read(ctx)) {
      if (event.type === 'asset') await run.write(event.asset);
      if (event.type === 'checkpoint') await run.checkpoint(event.cursor);
    }
    return { commits, summary: await run.complete() };
  } catch (error) {
    await run.abort();
    return { commits, error };
  }
}

/** Assets a tenant of this size yields when every model is readable and none archived. */
function expectedTotal(size: AnaplanTenantSize): number {
  const perModel =
    1 +
    size.listsPerModel +
    2 + // Time and Versions
    2 + // the versions
    size.modulesPerModel * 3 + // each module and its two views
    size.modulesPerModel * size.lineItemsPerModule;
  return size.workspaces * (1 + size.modelsPerWorkspace * perModel);
}

describe('anaplan extract through the catalog sink', () => {
  it('delivers two 10,000-line-item models exactly once with certificate auth through faults', async () => {
    const passphrase = makeCanary('anaplan-passphrase');
    const certificate = { ...makeUserCertificate({ passphrase }), passphrase };
    const anaplan = await startAnaplanHarness({
      certificate,
      size: { workspaces: 1, modelsPerWorkspace: 2, modulesPerModel: 20, lineItemsPerModule: 500 },
    });
    const receiver = await startCatalogReceiver();
    const { sink } = catalogSinkHarness({ catalog: { url: receiver.url } });
    defer(() => anaplan.close());
    defer(() => receiver.close());
    defer(() => sink.close());
    const { simulator } = anaplan;
    simulator.revokeTokensEvery(9);
    simulator.rateLimit(0, 1);
    simulator.failWith(503, 1);
    receiver.chaos({ seed: 11, rate429: 0.05, rate503: 0.05, rateDrop: 0.02 });

    const result = await pushExtract(
      sink,
      anaplan.context({ config: { authMode: 'certificate' } }),
    );

    const total = expectedTotal(simulator.tenant.size);
    expect(result.error).toBeUndefined();
    expect(result.summary?.assets).toBe(total);
    const counts = [...receiver.assetCounts().values()];
    expect(counts).toHaveLength(total);
    expect(counts.filter((times) => times !== 1)).toEqual([]);
    const stats = simulator.stats();
    expect(stats.certificateLogins).toBeGreaterThan(1);
    expect(stats).toMatchObject({ refusedLogins: [], rateLimited: 1, serverErrors: 1, logouts: 1 });
    expect(simulator.outstandingTokens()).toBe(0);
    expect(simulator.dataCalls()).toEqual([]);
    const sent = receiver.requests.map((r) => r.body.toString('latin1')).join('');
    expect(findCanary(passphrase, { sent, logs: anaplan.logs.text() })).toEqual([]);
    expect(sent).not.toContain('PRIVATE KEY');
  });
});
