import { describe, expect, it } from 'vitest';
import { AssetSchema, isPerimeterError } from '../../agent/plugin-api/index.ts';
import { AnaplanClient } from './client.ts';
import { makeUserCertificate } from '../../test/fakes/anaplan/pki.ts';
import { readAll, startAnaplanHarness } from '../../test/fakes/anaplan/harness.ts';
import { ManualClock } from '../../test/helpers/connector-harness.ts';
import type { AnaplanHarness, AnaplanHarnessOptions } from '../../test/fakes/anaplan/harness.ts';
import { deferredCleanup } from '../../test/helpers/cleanup.ts';
import { connector } from './index.ts';

const defer = deferredCleanup();
const certificate = {
  ...makeUserCertificate({ passphrase: 'pass-0d9c' }),
  passphrase: 'pass-0d9c',
};
const stranger = makeUserCertificate({ commonName: 'stranger' });
const CERTIFICATE_MODE = { authMode: 'certificate' } as const;

async function harness(options: AnaplanHarnessOptions = {}): Promise<AnaplanHarness> {
  const started = await startAnaplanHarness({ certificate, ...options });
  defer(() => started.close());
  return started;
}

function countByType(assets: readonly { typeName: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { typeName } of assets) counts[typeName] = (counts[typeName] ?? 0) + 1;
  return counts;
}

describe('the Anaplan connector against the simulator', () => {
  it('extracts every kind of structure with its relationships, and no data endpoint is called', async () => {
    const { simulator, context } = await harness();
    const { assets, checkpoints } = await readAll(context());
    // 2 workspaces × 2 models; per model 3 lists, Time, Versions, 2 versions, 2 modules,
    // 4 views and 6 line items.
    expect(countByType(assets)).toEqual({
      AnaplanWorkspace: 2,
      AnaplanModel: 4,
      AnaplanList: 12,
      AnaplanDimension: 8,
      AnaplanVersion: 8,
      AnaplanModule: 8,
      AnaplanView: 16,
      AnaplanLineItem: 24,
    });
    for (const asset of assets) expect(AssetSchema.safeParse(asset).success).toBe(true);
    const names = new Set(assets.map((a) => a.qualifiedName));
    const links = assets.flatMap((a) => a.relationships ?? []);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((l) => !names.has(l.targetQualifiedName))).toEqual([]);
    expect(
      assets.every((a) => a.parentQualifiedName === undefined || names.has(a.parentQualifiedName)),
    ).toBe(true);
    expect(checkpoints).toHaveLength(6);
    expect(simulator.dataCalls()).toEqual([]);
    expect(simulator.stats()).toMatchObject({ logins: 1, logouts: 1 });
    expect(simulator.outstandingTokens()).toBe(0);
  });

  it('reads a model of 10,000 line items completely, 5,000 per page through meta.paging', async () => {
    const { simulator, context } = await harness({
      size: { workspaces: 1, modelsPerWorkspace: 1, modulesPerModel: 10, lineItemsPerModule: 1000 },
    });
    const { assets } = await readAll(context());
    const lineItems = assets.filter((a) => a.typeName === 'AnaplanLineItem');
    expect(lineItems).toHaveLength(10_000);
    expect(new Set(lineItems.map((a) => a.qualifiedName)).size).toBe(10_000);
    const pages = simulator.targets().filter((t) => t.includes('/lineItems?'));
    expect(pages.map((t) => new URL(t, 'http://x').searchParams.get('offset'))).toEqual([
      '0',
      '5000',
    ]);
    expect(pages.every((t) => t.includes('limit=5000') && t.includes('includeAll=true'))).toBe(
      true,
    );
  });

  it('records a model the user cannot open (404) as skipped with a warning, and the run succeeds', async () => {
    const { simulator, context, logs } = await harness({ size: { forbidden: 1 } });
    const { assets, events } = await readAll(context());
    const forbiddenId = simulator.tenant.modelId({ workspace: 0, index: 0 });
    // No placeholder asset: the model is named by a skipped event, yielded before its checkpoint.
    expect(assets.filter((a) => a.qualifiedName.includes(`/${forbiddenId}`))).toEqual([]);
    const skipAt = events.findIndex((e) => e.type === 'skipped');
    expect(events[skipAt]).toEqual({
      type: 'skipped',
      kind: 'AnaplanModel',
      id: forbiddenId,
      reason: 'forbidden',
      message: 'Anaplan answered 404 to this user',
    });
    expect(events[skipAt + 1]?.type).toBe('checkpoint');
    const warning = logs.records().find((line) => line['kind'] === 'model');
    expect(warning).toMatchObject({ level: 'warn', modelId: forbiddenId, status: 404 });
    const summary = logs.records().find((line) => line['msg'] === 'Anaplan extraction finished');
    expect(summary?.['skipped']).toEqual({ model: 1 });
  });

  it('reports an archived model with its state and never opens it', async () => {
    const { simulator, context } = await harness({ size: { archived: 1 } });
    const archivedId = simulator.tenant.modelId({ workspace: 1, index: 1 });
    const { assets } = await readAll(context());
    const model = assets.find((a) => a.attributes['id'] === archivedId);
    expect(model?.attributes).toMatchObject({ activeState: 'ARCHIVED', opened: false });
    expect(simulator.targets().filter((t) => t.includes(archivedId))).toEqual([]);
  });

  it('as a non-admin, extracts what is readable and skips versions and calendar (403)', async () => {
    const { simulator, context, logs } = await harness({
      nonAdmin: true,
      size: { workspaces: 1, modelsPerWorkspace: 1 },
    });
    const { assets } = await readAll(context());
    expect(countByType(assets)).toMatchObject({
      AnaplanModule: 2,
      AnaplanLineItem: 6,
      AnaplanList: 3,
    });
    expect(assets.some((a) => a.typeName === 'AnaplanVersion')).toBe(false);
    const summary = logs.records().find((line) => line['msg'] === 'Anaplan extraction finished');
    expect(summary?.['skipped']).toEqual({ versions: 1, modelCalendar: 1 });
    expect(simulator.stats().logouts).toBe(1);
  });

  it('selects workspaces and models by id and discovers them for selection', async () => {
    const { simulator, context } = await harness();
    const modelId = simulator.tenant.modelId({ workspace: 1, index: 0 });
    const { assets } = await readAll(context({ params: { modelIds: [modelId] } }));
    expect(countByType(assets)).toMatchObject({ AnaplanWorkspace: 1, AnaplanModel: 1 });
    const resources = [];
    for await (const resource of connector.discover(context())) resources.push(resource);
    expect(resources.map((r) => r.kind)).toEqual([
      'workspace',
      'model',
      'model',
      'workspace',
      'model',
      'model',
    ]);
    expect(resources[1]).toMatchObject({
      parentId: simulator.tenant.workspaceId(0),
      attributes: { state: 'UNLOCKED' },
    });
  });

  it('refuses a data endpoint in the HTTP client before the request leaves', async () => {
    const { simulator, context } = await harness();
    const ctx = context();
    const w = simulator.tenant.workspaceId(0);
    const m = simulator.tenant.modelId({ workspace: 0, index: 0 });
    const before = simulator.requests().length;
    for (const path of [
      `/2/0/workspaces/${w}/models/${m}/lists/101000000001/items`,
      `/2/0/models/${m}/views/102000000001/data`,
      `/2/0/workspaces/${w}/models/${m}/files/113000000001`,
    ]) {
      const error = await ctx.http
        .request({ method: 'GET', url: `${simulator.apiUrl}${path}`, signal: ctx.signal })
        .catch((e: unknown) => e);
      expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    }
    expect(simulator.requests()).toHaveLength(before);
  });
});

describe('Anaplan authentication', () => {
  it('extracts with a v1 and with a v2 certificate login, and logs out', async () => {
    for (const encodedDataFormat of ['v1', 'v2']) {
      const { simulator, context } = await harness({
        size: { workspaces: 1, modelsPerWorkspace: 1 },
      });
      const { assets } = await readAll(
        context({ config: { ...CERTIFICATE_MODE, encodedDataFormat } }),
      );
      expect(assets.length).toBeGreaterThan(10);
      expect(simulator.stats()).toMatchObject({
        certificateLogins: 1,
        logouts: 1,
        refusedLogins: [],
      });
    }
  });

  it('signs a fresh nonce at every login, so a run that must log in many times succeeds', async () => {
    const { simulator, context } = await harness();
    simulator.revokeTokensEvery(7);
    const { assets } = await readAll(context({ config: CERTIFICATE_MODE }));
    expect(assets.filter((a) => a.typeName === 'AnaplanLineItem')).toHaveLength(24);
    const stats = simulator.stats();
    expect(stats.certificateLogins).toBeGreaterThan(3);
    expect(stats.refusedLogins).toEqual([]);
  });

  it('fails with SOURCE_AUTH_FAILED naming the password check, never the password', async () => {
    const { simulator, context, logs } = await harness();
    const wrong = 'Wrong-Passw0rd-e41b';
    const error = await readAll(
      context({ credentials: { user: simulator.user, password: wrong } }),
    ).catch((e: unknown) => e as Error);
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect((error as Error).message).toContain('user name and password check failed');
    expect((error as Error).message).not.toContain(wrong);
    expect(logs.text()).not.toContain(wrong);
    expect(simulator.stats().refusedLogins).toEqual(['password']);
  });

  it('fails with SOURCE_AUTH_FAILED naming the certificate check for a certificate Anaplan does not trust', async () => {
    const { simulator, context } = await harness();
    const error = await readAll(
      context({
        config: CERTIFICATE_MODE,
        credentials: { certificate: stranger.certificatePem, privateKey: stranger.privateKeyPem },
      }),
    ).catch((e: unknown) => e as Error);
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect((error as Error).message).toContain('certificate check failed');
    expect((error as Error).message).not.toContain('PRIVATE KEY');
    expect(simulator.stats().refusedLogins).toEqual(['untrusted certificate']);
  });

  it('fails with SOURCE_AUTH_FAILED naming the signature check when the key is not the certificate’s', async () => {
    const { simulator, context } = await harness();
    const error = await readAll(
      context({
        config: CERTIFICATE_MODE,
        credentials: {
          certificate: certificate.certificatePem,
          privateKey: stranger.privateKeyPem,
        },
      }),
    ).catch((e: unknown) => e as Error);
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect((error as Error).message).toContain('signature check failed');
    // Checked before it is sent: nothing reached the auth host.
    expect(simulator.requests()).toEqual([]);
  });

  it('refreshes the token ahead of its 35-minute expiry instead of logging in again', async () => {
    const clock = new ManualClock();
    const { simulator, context } = await harness({ now: () => clock.now() });
    const client = new AnaplanClient({ ...context(), clock });
    defer(() => client.close());
    const workspaces = async (): Promise<number> => {
      let count = 0;
      for await (const _ of client.workspaces()) count += 1;
      return count;
    };
    expect(await workspaces()).toBe(2);
    clock.advance(30 * 60_000);
    expect(await workspaces()).toBe(2);
    expect(simulator.stats()).toMatchObject({ logins: 1, refreshes: 0 });
    // Inside the renewal margin (3.5 min before expiry): the same token, refreshed.
    clock.advance(2 * 60_000);
    expect(await workspaces()).toBe(2);
    expect(simulator.stats()).toMatchObject({ logins: 1, refreshes: 1 });
  });

  it('logs in again when a short-lived token expired and its refresh is refused', async () => {
    const clock = new ManualClock();
    const { simulator, context } = await harness({ now: () => clock.now() });
    simulator.shortExpiry(10_000);
    const client = new AnaplanClient({ ...context({ config: CERTIFICATE_MODE }), clock });
    defer(() => client.close());
    await client.login();
    clock.advance(20_000);
    for await (const _ of client.workspaces()) {
      // read to the end
    }
    expect(simulator.stats()).toMatchObject({ certificateLogins: 2, refreshes: 0 });
  });

  it('logs out also when the run fails', async () => {
    const { simulator, context } = await harness();
    simulator.failWith(503);
    const error = await readAll(context()).catch((e: unknown) => e);
    expect(isPerimeterError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    expect(simulator.stats()).toMatchObject({ logins: 1, logouts: 1 });
    expect(simulator.outstandingTokens()).toBe(0);
  });

  it('logs out also when the run is aborted mid-model', async () => {
    const { simulator, context } = await harness();
    const controller = new AbortController();
    let assets = 0;
    const error = await (async () => {
      for await (const event of connector.read(context({ signal: controller.signal }))) {
        if (event.type === 'asset' && ++assets === 10) {
          simulator.slowDown(5_000);
          controller.abort();
        }
      }
    })().catch((e: unknown) => e);
    expect(error).toBeDefined();
    expect(simulator.stats()).toMatchObject({ logins: 1, logouts: 1 });
    expect(simulator.outstandingTokens()).toBe(0);
  });

  it('rides out a 429 and a 503 on demand with the HTTP client’s retries', async () => {
    const { simulator, context } = await harness({
      size: { workspaces: 1, modelsPerWorkspace: 1 },
    });
    simulator.rateLimit(0, 1);
    simulator.failWith(503, 1);
    const { assets } = await readAll(context());
    expect(assets.filter((a) => a.typeName === 'AnaplanLineItem')).toHaveLength(6);
    expect(simulator.stats()).toMatchObject({ rateLimited: 1, serverErrors: 1 });
  });
});
