import { describe, expect, it } from 'vitest';
import { certificateLogin } from '../../connectors/anaplan/signing.ts';
import type { CertificateLogin } from '../../connectors/anaplan/signing.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { makeUserCertificate } from '../fakes/anaplan/pki.ts';
import { startAnaplanSimulator } from '../fakes/anaplan/simulator.ts';
import type { AnaplanSimulator, AnaplanSimulatorOptions } from '../fakes/anaplan/simulator.ts';

// The simulator's own promises: it verifies what a real Anaplan verifies, so that the connector
// tests prove something. Driven with plain fetch, not with the connector.

const defer = deferredCleanup();
const user = makeUserCertificate();
const credentials = { certificatePem: user.certificatePem, privateKeyPem: user.privateKeyPem };

async function start(options: AnaplanSimulatorOptions = {}): Promise<AnaplanSimulator> {
  const simulator = await startAnaplanSimulator({
    certificates: [user.certificatePem],
    ...options,
  });
  defer(() => simulator.close());
  return simulator;
}

async function authenticate(simulator: AnaplanSimulator, login: CertificateLogin): Promise<number> {
  const response = await fetch(`${simulator.authUrl}/token/authenticate`, {
    method: 'POST',
    headers: { authorization: login.authorization, 'content-type': 'application/json' },
    body: JSON.stringify(login.body),
  });
  await response.body?.cancel();
  return response.status;
}

async function basicToken(simulator: AnaplanSimulator): Promise<string> {
  const basic = Buffer.from(`${simulator.user}:${simulator.password}`).toString('base64');
  const response = await fetch(`${simulator.authUrl}/token/authenticate`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { tokenInfo: { tokenValue: string } };
  return body.tokenInfo.tokenValue;
}

async function get(simulator: AnaplanSimulator, token: string, path: string): Promise<Response> {
  return fetch(`${simulator.apiUrl}${path}`, {
    headers: { authorization: `AnaplanAuthToken ${token}` },
  });
}

describe('the Anaplan simulator’s certificate checks', () => {
  it('accepts a v1 and a v2 login signed by the registered certificate’s key', async () => {
    const simulator = await start();
    const nowMs = Date.now();
    expect(
      await authenticate(simulator, certificateLogin(credentials, { format: 'v1', nowMs })),
    ).toBe(201);
    expect(
      await authenticate(simulator, certificateLogin(credentials, { format: 'v2', nowMs })),
    ).toBe(201);
    expect(simulator.stats().certificateLogins).toBe(2);
  });

  it('refuses a tampered signature', async () => {
    const simulator = await start();
    const login = certificateLogin(credentials, { format: 'v2', nowMs: Date.now() });
    const signature = Buffer.from(login.body.encodedSignedData, 'base64');
    signature[10] = (signature[10] ?? 0) ^ 0xff;
    const tampered = {
      ...login,
      body: { ...login.body, encodedSignedData: signature.toString('base64') },
    };
    expect(await authenticate(simulator, tampered)).toBe(401);
    expect(simulator.stats().refusedLogins).toEqual(['signature']);
  });

  it('refuses a replayed nonce, even with its valid signature', async () => {
    const simulator = await start();
    const login = certificateLogin(credentials, { format: 'v2', nowMs: Date.now() });
    expect(await authenticate(simulator, login)).toBe(201);
    expect(await authenticate(simulator, login)).toBe(401);
    expect(simulator.stats().refusedLogins).toEqual(['replayed nonce']);
  });

  it('refuses a v2 timestamp outside the allowed skew, in seconds or milliseconds', async () => {
    const simulator = await start();
    const stale = certificateLogin(credentials, { format: 'v2', nowMs: Date.now() - 10 * 60_000 });
    expect(await authenticate(simulator, stale)).toBe(401);
    const future = certificateLogin(credentials, { format: 'v2', nowMs: Date.now() + 10 * 60_000 });
    expect(await authenticate(simulator, future)).toBe(401);
    expect(simulator.stats().refusedLogins).toEqual(['timestamp skew', 'timestamp skew']);
  });

  it('refuses a certificate not registered for a user, and a malformed header', async () => {
    const simulator = await start();
    const stranger = makeUserCertificate({ commonName: 'stranger' });
    const login = certificateLogin(
      { certificatePem: stranger.certificatePem, privateKeyPem: stranger.privateKeyPem },
      { format: 'v2', nowMs: Date.now() },
    );
    expect(await authenticate(simulator, login)).toBe(401);
    expect(
      await authenticate(simulator, { ...login, authorization: 'CACertificate bm90IGEgY2VydA==' }),
    ).toBe(400);
    expect(simulator.stats().refusedLogins).toEqual([
      'untrusted certificate',
      'certificate header',
    ]);
  });
});

describe('the Anaplan simulator’s API', () => {
  it('answers both path forms alike and 405 to GET /workspaces/{w}/models/{m}', async () => {
    const simulator = await start();
    const token = await basicToken(simulator);
    const w = simulator.tenant.workspaceId(0);
    const m = simulator.tenant.modelId({ workspace: 0, index: 0 });
    const direct = await (await get(simulator, token, `/2/0/models/${m}/modules`)).json();
    const prefixed = await (
      await get(simulator, token, `/2/0/workspaces/${w}/models/${m}/modules`)
    ).json();
    expect(prefixed).toEqual(direct);
    expect((await get(simulator, token, `/2/0/workspaces/${w}/models/${m}`)).status).toBe(405);
  });

  it('pages with meta.paging, sends ids as strings and omits an empty collection’s key', async () => {
    const simulator = await start({ size: { listsPerModel: 0, modulesPerModel: 3 } });
    const token = await basicToken(simulator);
    const m = simulator.tenant.modelId({ workspace: 0, index: 0 });
    const page = (await (
      await get(simulator, token, `/2/0/models/${m}/modules?limit=2&offset=0`)
    ).json()) as {
      meta: { paging: Record<string, unknown> };
      modules: { id: unknown }[];
    };
    expect(page.meta.paging).toMatchObject({
      currentPageSize: 2,
      totalSize: 3,
      offset: 0,
      next: '?limit=2&offset=2',
    });
    expect(page.modules.every((module) => typeof module.id === 'string')).toBe(true);
    const lists = (await (await get(simulator, token, `/2/0/models/${m}/lists`)).json()) as Record<
      string,
      unknown
    >;
    expect(lists).not.toHaveProperty('lists');
  });

  it('answers a non-admin 404 for workspace detail and 403 for versions and the calendar', async () => {
    const simulator = await start({ nonAdmin: true });
    const token = await basicToken(simulator);
    const w = simulator.tenant.workspaceId(0);
    const m = simulator.tenant.modelId({ workspace: 0, index: 0 });
    expect((await get(simulator, token, `/2/0/workspaces/${w}`)).status).toBe(404);
    expect((await get(simulator, token, `/2/0/models/${m}/versions`)).status).toBe(403);
    expect(
      (await get(simulator, token, `/2/0/workspaces/${w}/models/${m}/modelCalendar`)).status,
    ).toBe(403);
  });

  it('answers 404 for a forbidden model’s contents, records data calls, and ends a logged-out token', async () => {
    const simulator = await start({ size: { forbidden: 1 } });
    const token = await basicToken(simulator);
    const forbidden = simulator.tenant.modelId({ workspace: 0, index: 0 });
    const open = simulator.tenant.modelId({ workspace: 0, index: 1 });
    expect((await get(simulator, token, `/2/0/models/${forbidden}/modules`)).status).toBe(404);
    expect((await get(simulator, token, `/2/0/models/${forbidden}`)).status).toBe(200);
    expect(
      (await get(simulator, token, `/2/0/models/${open}/views/102000000001/data`)).status,
    ).toBe(200);
    expect(simulator.dataCalls()).toEqual([`GET /2/0/models/${open}/views/102000000001/data`]);
    const logout = await fetch(`${simulator.authUrl}/token/logout`, {
      method: 'POST',
      headers: { authorization: `AnaplanAuthToken ${token}` },
    });
    expect(logout.status).toBe(204);
    expect((await get(simulator, token, '/2/0/workspaces')).status).toBe(401);
  });
});
