import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CanonicalSecretRef, SecretStoreClient } from '../../agent/plugin-api/index.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import type { TestStoreDeps } from '../../test/helpers/store-deps.ts';
import { startConnectProxy } from '../../test/helpers/connect-proxy.ts';
import { startGcpSmFake } from '../../test/fakes/gcp-sm/fake.ts';
import type { GcpSmFake, ServiceAccountKey } from '../../test/fakes/gcp-sm/fake.ts';
import { containing } from '../../test/helpers/matchers.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import { testPki } from '../../test/helpers/tls.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import { gcpSmStore } from './index.ts';
import { GcpSmProfileSchema } from './profile.ts';

const pki = testPki();
const tls = { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem };
const PROJECT = 'acme-prod';
let fake: GcpSmFake;
let key: ServiceAccountKey;
let sequence = 0;

beforeAll(async () => {
  fake = await startGcpSmFake({ grpcTls: tls, region: 'europe-west1' });
  key = fake.identity.createServiceAccount(`perimeter@${PROJECT}.iam.gserviceaccount.com`);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.state.restore();
});

interface Harness {
  readonly client: SecretStoreClient;
  readonly kit: TestStoreDeps;
  /** Reads `gcp-sm://<text>` through the real reference parser, canonicalize and fetch. */
  read(text: string, signal?: AbortSignal): ReturnType<SecretStoreClient['fetch']>;
}

/** Parses and canonicalizes `gcp-sm://<text>` as the resolver would. */
function canonical(client: SecretStoreClient, text: string): CanonicalSecretRef {
  return client.canonicalize(parseSecretRef(`gcp-sm://${text}`, [gcpSmStore]));
}

function harness(transport: 'rest' | 'grpc', settings: Record<string, unknown> = {}): Harness {
  const kit = testStoreDeps({
    references: { 'file:///keys/sa.json': key.json },
    network: { extraCaPem: pki.caPem },
  });
  const profile = {
    allowedProjects: [PROJECT],
    transport,
    apiEndpoint: transport === 'rest' ? fake.restUrl : fake.grpcEndpoint,
    regionalApiEndpoint: fake.regionalUrl,
    auth: { type: 'serviceAccountKey', key: 'file:///keys/sa.json' },
    totalTimeoutMs: 3_000,
    ...settings,
  };
  const { client, read } = openStore(gcpSmStore, profile, kit.deps);
  return { client, kit, read: (text, signal) => read(`gcp-sm://${text}`, signal) };
}

/** A fresh secret id, so tests sharing the fake never see each other's versions. */
function secretId(label: string): string {
  sequence += 1;
  return `${label}-${sequence}`;
}

describe.each(['rest', 'grpc'] as const)('gcp-sm over %s', (transport) => {
  let h: Harness;
  beforeAll(() => {
    h = harness(transport);
  });
  afterAll(async () => {
    await h.client.close();
  });

  it('reads the latest version and reports the resolved version name', async () => {
    const id = secretId('db');
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, '{"user":"u","password":"p1"}');
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, '{"user":"u","password":"p2"}');
    const fetched = await h.read(`${PROJECT}/${id}`);
    expect(fetched.value.toString()).toBe('{"user":"u","password":"p2"}');
    expect(fetched.versionId).toMatch(new RegExp(`^projects/\\d+/secrets/${id}/versions/2$`));
  });

  it('reads a pinned version after a rotation', async () => {
    const id = secretId('pinned');
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, 'first');
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, 'second');
    const fetched = await h.read(`projects/${PROJECT}/secrets/${id}/versions/1`);
    expect(fetched.value.toString()).toBe('first');
    expect(fetched.versionId).toMatch(/\/versions\/1$/);
  });

  it('returns binary payloads byte for byte', async () => {
    const id = secretId('binary');
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0x80]);
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, bytes);
    expect((await h.read(`${PROJECT}/${id}`)).value.equals(bytes)).toBe(true);
  });

  it('maps a missing secret to SECRET_NOT_FOUND with the store and locator in context', async () => {
    await expect(h.read(`${PROJECT}/${secretId('missing')}`)).rejects.toMatchObject({
      code: 'SECRET_NOT_FOUND',
      retryable: false,
      context: { store: 'gcp-sm', sdkCode: 'NOT_FOUND' },
    });
  });

  it('maps PERMISSION_DENIED to SECRET_ACCESS_DENIED naming the role to grant', async () => {
    const id = secretId('denied');
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, 'x');
    fake.state.deny(`projects/${PROJECT}/secrets/${id}`);
    await expect(h.read(`${PROJECT}/${id}`)).rejects.toMatchObject({
      code: 'SECRET_ACCESS_DENIED',
      message: containing('secretAccessor'),
    });
  });

  it.each(['DISABLED', 'DESTROYED'] as const)(
    'answers a %s version with SECRET_NOT_FOUND naming the state',
    async (state) => {
      const id = secretId(state.toLowerCase());
      fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, 'x');
      fake.state.setVersionState(`projects/${PROJECT}/secrets/${id}`, 1, state);
      await expect(h.read(`${PROJECT}/${id}`)).rejects.toMatchObject({
        code: 'SECRET_NOT_FOUND',
        message: containing(state.toLowerCase()),
        context: { sdkCode: 'FAILED_PRECONDITION' },
      });
    },
  );

  it.each(['UNAVAILABLE', 'RESOURCE_EXHAUSTED'] as const)(
    'retries %s within one read and succeeds',
    async (fault) => {
      const id = secretId('flaky');
      fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, 'ok');
      const before = fake.state.readCount;
      fake.state.failNext(2, fault);
      expect((await h.read(`${PROJECT}/${id}`)).value.toString()).toBe('ok');
      expect(fake.state.readCount - before).toBe(3);
    },
  );

  it('refuses a payload whose CRC32C does not match, as a retryable error', async () => {
    const id = secretId('corrupt');
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, 'payload');
    fake.state.corruptChecksum = true;
    await expect(h.read(`${PROJECT}/${id}`)).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: true,
      message: containing('CRC32C'),
    });
  });

  it('accepts a payload that carries no checksum', async () => {
    const id = secretId('nocrc');
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, 'payload');
    fake.state.omitChecksum = true;
    expect((await h.read(`${PROJECT}/${id}`)).value.toString()).toBe('payload');
  });

  it('stops waiting as soon as the signal aborts', async () => {
    const id = secretId('slow');
    fake.state.addVersion(`projects/${PROJECT}/secrets/${id}`, 'slow');
    // Held longer than the test may run: only giving up on the abort lets it pass.
    fake.state.delayMs = 60_000;
    const reason = new Error('run cancelled');
    const controller = new AbortController();
    const held = fake.state.held;
    const pending = h.read(`${PROJECT}/${id}`, controller.signal);
    await waitFor(() => fake.state.held > held, { what: 'the access to reach the fake' });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe('gcp-sm retry bounds and endpoints', () => {
  it('gives up on a store that keeps failing within totalTimeoutMs', async () => {
    const h = harness('rest', { totalTimeoutMs: 800, attemptTimeoutMs: 400 });
    fake.state.addVersion(`projects/${PROJECT}/secrets/down`, 'x');
    fake.state.failAll('RESOURCE_EXHAUSTED');
    const started = Date.now();
    await expect(h.read(`${PROJECT}/down`)).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: true,
    });
    // The SDK default would keep retrying for 10 minutes (the bound leaves room for a busy machine).
    expect(Date.now() - started).toBeLessThan(10_000);
    await h.client.close();
  });

  it('reads a regional secret from its regional endpoint, not the global one', async () => {
    const h = harness('rest');
    fake.state.addVersion(`projects/${PROJECT}/locations/europe-west1/secrets/regional`, 'eu');
    const fetched = await h.read(`${PROJECT}/regional?location=europe-west1`);
    expect(fetched.value.toString()).toBe('eu');
    expect(fetched.versionId).toMatch(/\/locations\/europe-west1\/secrets\/regional\/versions\/1$/);
    await h.client.close();
  });

  it('refuses plain http to anything but a loopback endpoint', () => {
    const h = harness('rest', { apiEndpoint: 'http://secretmanager.example.com' });
    fake.state.addVersion(`projects/${PROJECT}/secrets/plain`, 'x');
    return expect(h.read(`${PROJECT}/plain`)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('gcp-sm secrecy and lifecycle', () => {
  it('never logs the value or the bearer, and registers the bearer with the redactor', async () => {
    const h = harness('rest');
    const canary = makeCanary('gcp');
    fake.state.addVersion(`projects/${PROJECT}/secrets/canary`, canary);
    const fetched = await h.read(`${PROJECT}/canary`);
    expect(fetched.value.toString()).toBe(canary);
    // The self-signed JWT bearer that went on the wire and the private key were registered.
    const privateKey = (JSON.parse(key.json) as { private_key: string }).private_key;
    expect(h.kit.logs.redactor.redact(`bearer=${fake.state.lastBearer ?? 'none'}`)).toBe(
      'bearer=[redacted]',
    );
    expect(h.kit.logs.redactor.redact(privateKey)).toBe('[redacted]');
    expect(findCanary(canary, { logs: h.kit.logs.text() })).toEqual([]);
    expect(h.kit.logs.records()).toContainEqual(
      expect.objectContaining({
        msg: 'secret read',
        locator: `projects/${PROJECT}/secrets/canary`,
        outcome: 'ok',
      }),
    );
    await h.client.close();
  });

  it('probes by acquiring a bearer, and fails the probe when the key is revoked', async () => {
    const own = fake.identity.createServiceAccount(`probe@${PROJECT}.iam.gserviceaccount.com`);
    const kit = testStoreDeps({ references: { 'env://KEY': own.json } });
    const profile = GcpSmProfileSchema.parse({
      allowedProjects: [PROJECT],
      apiEndpoint: fake.restUrl,
      auth: { type: 'serviceAccountKey', key: 'env://KEY' },
    });
    const client = gcpSmStore.create(profile, kit.deps);
    await client.probe?.({ signal: AbortSignal.timeout(5_000) });
    fake.identity.deleteKey(own.keyId);
    fake.state.addVersion(`projects/${PROJECT}/secrets/after-revoke`, 'x');
    await expect(
      client.fetch(canonical(client, `${PROJECT}/after-revoke`), {
        signal: AbortSignal.timeout(5_000),
      }),
    ).rejects.toMatchObject({ code: 'SECRET_ACCESS_DENIED' });
    await client.close();
  });

  it('closes idempotently and refuses reads afterwards', async () => {
    const h = harness('grpc');
    fake.state.addVersion(`projects/${PROJECT}/secrets/closing`, 'x');
    await h.read(`${PROJECT}/closing`);
    await Promise.all([h.client.close(), h.client.close()]);
    await expect(h.read(`${PROJECT}/closing`)).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: false,
    });
  });
});

describe('gcp-sm TLS trust', () => {
  let httpsFake: GcpSmFake;
  let sa: ServiceAccountKey;
  beforeAll(async () => {
    httpsFake = await startGcpSmFake({ restTls: tls, grpcTls: tls });
    sa = httpsFake.identity.createServiceAccount(`tls@${PROJECT}.iam.gserviceaccount.com`);
    httpsFake.state.addVersion(`projects/${PROJECT}/secrets/tls`, 'over-tls');
  });
  afterAll(async () => {
    await httpsFake.close();
  });

  function tlsClient(
    transport: 'rest' | 'grpc',
    extraCaPem: string | undefined,
    proxy: { httpsProxy?: string; noProxy?: string } = {},
  ): SecretStoreClient {
    const kit = testStoreDeps({
      references: { 'env://KEY': sa.json },
      network: { extraCaPem, ...proxy },
    });
    const profile = GcpSmProfileSchema.parse({
      allowedProjects: [PROJECT],
      transport,
      apiEndpoint: transport === 'rest' ? httpsFake.restUrl : httpsFake.grpcEndpoint,
      auth: { type: 'serviceAccountKey', key: 'env://KEY' },
      totalTimeoutMs: 500,
    });
    return gcpSmStore.create(profile, kit.deps);
  }

  it.each(['rest', 'grpc'] as const)('trusts the agent extra CA over %s', async (transport) => {
    const client = tlsClient(transport, pki.caPem);
    const ref = canonical(client, `${PROJECT}/tls`);
    expect((await client.fetch(ref, { signal: AbortSignal.timeout(5_000) })).value.toString()).toBe(
      'over-tls',
    );
    await client.close();
  });

  it.each(['rest', 'grpc'] as const)(
    'reports an untrusted certificate over %s as TLS_UNTRUSTED',
    async (transport) => {
      const client = tlsClient(transport, undefined);
      const ref = canonical(client, `${PROJECT}/tls`);
      // A bound against a hang, not part of what is checked: the answer no longer depends on
      // time (the read's 500 ms bound included), but a first read loads the SDK, which took
      // seconds when the 2-core machine was busy.
      const signal = AbortSignal.timeout(15_000);
      await expect(client.fetch(ref, { signal })).rejects.toMatchObject({ code: 'TLS_UNTRUSTED' });
      await client.close();
    },
  );

  it('tunnels REST calls through the agent https proxy, except for no-proxy hosts', async () => {
    const egress = await startConnectProxy();
    try {
      const proxied = tlsClient('rest', pki.caPem, { httpsProxy: egress.url });
      const ref = canonical(proxied, `${PROJECT}/tls`);
      const signal = AbortSignal.timeout(5_000);
      expect((await proxied.fetch(ref, { signal })).value.toString()).toBe('over-tls');
      expect(egress.tunnels).toEqual([new URL(httpsFake.restUrl).host]);
      await proxied.close();
      const direct = tlsClient('rest', pki.caPem, { httpsProxy: egress.url, noProxy: '127.0.0.1' });
      await direct.fetch(canonical(direct, `${PROJECT}/tls`), { signal });
      expect(egress.tunnels).toHaveLength(1);
      await direct.close();
    } finally {
      await egress.close();
    }
  });
});
