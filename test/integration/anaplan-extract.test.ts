import { describe, expect, it } from 'vitest';
import { connector } from '../../connectors/anaplan/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import { catalogSinkHarness } from '../fakes/catalog/sink-harness.ts';
import { startAnaplanHarness } from '../fakes/anaplan/harness.ts';
import { makeUserCertificate } from '../fakes/anaplan/pki.ts';
import type { AnaplanTenantSize } from '../fakes/anaplan/tenant.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { expectEachAssetOnce, pushExtract, pushedText } from './support/delivery.ts';

const defer = deferredCleanup();

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
      connector,
      anaplan.context({ config: { authMode: 'certificate' } }),
      { runId: 'anaplan-run' },
    );

    const total = expectedTotal(simulator.tenant.size);
    expect(result.error).toBeUndefined();
    expect(result.summary?.assets).toBe(total);
    expectEachAssetOnce(receiver, total);
    expect(receiver.completes).toEqual([
      expect.objectContaining({ runId: 'anaplan-run', assets: total }),
    ]);
    const stats = simulator.stats();
    expect(stats.certificateLogins).toBeGreaterThan(1);
    expect(stats).toMatchObject({ refusedLogins: [], rateLimited: 1, serverErrors: 1, logouts: 1 });
    expect(simulator.outstandingTokens()).toBe(0);
    expect(simulator.dataCalls()).toEqual([]);
    const sent = pushedText(receiver);
    expect(sent).toContain('AnaplanLineItem');
    expect(findCanary(passphrase, { sent, logs: anaplan.logs.text() })).toEqual([]);
    expect(sent).not.toContain('PRIVATE KEY');
  });
});
