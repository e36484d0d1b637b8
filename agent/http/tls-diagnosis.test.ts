import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getCACertificates } from 'node:tls';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  fastSettings,
  rejectionOf,
  sendJson,
  closedAfterEach,
} from '../../test/helpers/loopback.ts';
import type { Handler } from '../../test/helpers/loopback.ts';
import { startChild } from '../../test/helpers/child.ts';
import { startMitmProxy } from '../../test/helpers/mitm-proxy.ts';
import type { MitmProxy } from '../../test/helpers/mitm-proxy.ts';
import { LOOPBACK_NAMES, createCa, issueCertificate, testPki } from '../../test/helpers/tls.ts';
import { isPerimeterError } from '../plugin-api/index.ts';
import { chainsToPublicRoot, probePresentedChain } from './peer-probe.ts';

const tracked = closedAfterEach();
const pki = testPki();

// A second, unrelated CA: the one a TLS-inspecting proxy re-signs every certificate with.
const dir = mkdtempSync(join(tmpdir(), 'perimeter-tls-faults-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const inspectingCa = createCa(dir, 'inspecting-ca', 'Corp Inspecting Proxy CA');
const inspectingLeaf = issueCertificate(inspectingCa, 'inspected', {
  extensions: `subjectAltName=${LOOPBACK_NAMES}\nextendedKeyUsage=serverAuth`,
});
// Issued by the test CA the clients trust, but wrong in one way each.
const serverCa = createCa(dir, 'server-ca', 'Perimeter Test Server CA');
const expired = issueCertificate(serverCa, 'expired', {
  extensions: `subjectAltName=${LOOPBACK_NAMES}\nextendedKeyUsage=serverAuth`,
  validity: { start: '20200101000000Z', end: '20200201000000Z' },
});
const wrongName = issueCertificate(serverCa, 'wrong-name', {
  extensions: 'subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth',
});

const hello: Handler = (_request, response) => {
  sendJson(response, 200, { hello: 'tls' });
};
const Hello = z.object({ hello: z.string() });
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

async function mitm(): Promise<MitmProxy> {
  const proxy = await startMitmProxy({ leaf: inspectingLeaf, upstreamCa: pki.caPem });
  tracked.track(proxy.close);
  return proxy;
}

describe('a TLS-inspecting proxy in the path', () => {
  it('is named in the error: the certificate it presented, its CA, and the setting that adds a CA', async () => {
    const target = await tracked.server(hello, { cert: pki.serverCertPem, key: pki.serverKeyPem });
    const proxy = await mitm();
    const { client } = tracked.client(
      { allowedHosts: [target.hostPattern] },
      { settings: fastSettings({ httpsProxy: proxy.url }) },
    );
    const error = await rejectionOf(
      client.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'TLS_UNTRUSTED')).toBe(true);
    expect(error.message).toContain('issued by "CN=Corp Inspecting Proxy CA"');
    expect(error.message).toContain('a TLS-inspecting proxy is likely');
    expect(error.message).toContain("Trusted now: Node's bundled roots");
    expect(error.message).toContain('http.caFile unset');
    expect(error.message).toContain('set `http.caFile` to a PEM bundle');
    expect(error.message).toContain('tls.extraCaBundle.configMap');
    expect(error['context']).toMatchObject({
      tlsCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      presentedSubject: 'CN=perimeter-test-inspected',
      presentedIssuer: 'CN=Corp Inspecting Proxy CA',
      presentedFingerprint256: new X509Certificate(inspectingLeaf.certPem).fingerprint256,
      chainsToPublicRoot: false,
    });
    // The failed request and the diagnostic handshake both went through the proxy, and
    // neither sent a single request byte.
    expect(proxy.tunnels).toEqual([target.hostPattern, target.hostPattern]);
    expect(proxy.bytesFromClients()).toBe(0);
    expect(target.requests).toEqual([]);
  });

  it('does not ask to set http.caFile when it is set, and says what it holds', async () => {
    const target = await tracked.server(hello, { cert: pki.serverCertPem, key: pki.serverKeyPem });
    const proxy = await mitm();
    const { client } = tracked.client(
      { allowedHosts: [target.hostPattern] },
      {
        settings: fastSettings({ httpsProxy: proxy.url, caFile: pki.caFile }),
        extraCaPem: pki.caPem,
      },
    );
    const error = await rejectionOf(
      client.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'TLS_UNTRUSTED')).toBe(true);
    expect(error.message).toContain(`http.caFile=${pki.caFile} (1)`);
    expect(error.message).toContain('add it to the bundle at `http.caFile`');
    expect(error.message).not.toContain('set `http.caFile`');
  });

  it("is trusted with its CA in http.caFile, while NODE_EXTRA_CA_CERTS's CAs still are", async () => {
    const target = await tracked.server(hello, { cert: pki.serverCertPem, key: pki.serverKeyPem });
    const proxy = await mitm();
    // 127.0.0.1 goes through the inspecting proxy; localhost, the same server, goes direct.
    const settings = fastSettings({
      httpsProxy: proxy.url,
      noProxy: 'localhost',
      caFile: inspectingCa.certFile,
    });
    const { client } = tracked.client(
      { allowedHosts: [target.hostPattern, `localhost:${target.port}`] },
      {
        settings,
        extraCaPem: inspectingCa.certPem,
        // Node's default set as it is when NODE_EXTRA_CA_CERTS names the server's CA.
        defaultCaPems: [...getCACertificates('default'), pki.caPem],
      },
    );
    const inspected = await client.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(await inspected.json(Hello)).toEqual({ hello: 'tls' });
    const direct = await client.request({
      method: 'GET',
      url: `https://localhost:${target.port}/x`,
      signal: signal(),
    });
    expect(await direct.json(Hello)).toEqual({ hello: 'tls' });
    expect(proxy.tunnels).toEqual([target.hostPattern]);
    expect(target.requests).toHaveLength(2);
  });
});

describe('NODE_EXTRA_CA_CERTS, read by Node when a process starts', () => {
  const child = async (
    extraCaCerts: string,
    settings: Record<string, unknown>,
    urls: string[],
  ): Promise<Record<string, unknown>[]> => {
    const script = fileURLToPath(new URL('../../test/helpers/trust-child.ts', import.meta.url));
    const started = startChild(script, [JSON.stringify(settings), ...urls], {
      cwd: process.cwd(),
      env: { NODE_EXTRA_CA_CERTS: extraCaCerts },
    });
    const result = await started.exited;
    expect(result.code, result.stderr).toBe(0);
    return result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };

  it('is trusted together with http.caFile: each reaches the server it vouches for', async () => {
    const target = await tracked.server(hello, { cert: pki.serverCertPem, key: pki.serverKeyPem });
    const proxy = await mitm();
    const settings = { httpsProxy: proxy.url, noProxy: 'localhost', caFile: inspectingCa.certFile };
    const inspected = `${target.origin}/x`;
    const direct = `https://localhost:${target.port}/x`;
    expect(await child(pki.caFile, settings, [inspected, direct])).toEqual([
      { url: inspected, status: 200 },
      { url: direct, status: 200 },
    ]);
  });

  it('is named in the error with what it loaded, and with nothing loaded when unreadable', async () => {
    const target = await tracked.server(hello, { cert: pki.serverCertPem, key: pki.serverKeyPem });
    const proxy = await mitm();
    const url = `${target.origin}/x`;
    const [loaded] = await child(pki.caFile, { httpsProxy: proxy.url }, [url]);
    expect(loaded).toMatchObject({ code: 'TLS_UNTRUSTED' });
    expect(loaded?.['message']).toContain(
      `NODE_EXTRA_CA_CERTS=${pki.caFile} (1), http.caFile unset.`,
    );
    const missing = join(dir, 'missing.pem');
    const [unread] = await child(missing, { httpsProxy: proxy.url }, [url]);
    expect(unread?.['message']).toContain(
      `NODE_EXTRA_CA_CERTS=${missing} (none loaded: Node could not read it at startup)`,
    );
  });
});

describe('a certificate from a trusted CA', () => {
  it('that has expired gets its own message, with the date, and no CA advice', async () => {
    const target = await tracked.server(hello, { cert: expired.certPem, key: expired.keyPem });
    const { client } = tracked.client(
      { allowedHosts: [target.hostPattern] },
      { extraCaPem: serverCa.certPem, settings: fastSettings({ caFile: serverCa.certFile }) },
    );
    const error = await rejectionOf(
      client.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'TLS_UNTRUSTED')).toBe(true);
    expect(error['context']).toMatchObject({ tlsCode: 'CERT_HAS_EXPIRED' });
    expect(error.message).toContain('It expired on Feb  1 00:00:00 2020 GMT');
    expect(error.message).toContain('"CN=perimeter-test-expired"');
    expect(error.message).not.toContain('`http.caFile`');
    expect(error.message).not.toContain('TLS-inspecting');
  });

  it('for another name gets its own message, naming the names it is valid for', async () => {
    const target = await tracked.server(hello, { cert: wrongName.certPem, key: wrongName.keyPem });
    const { client } = tracked.client(
      { allowedHosts: [target.hostPattern] },
      { extraCaPem: serverCa.certPem, settings: fastSettings({ caFile: serverCa.certFile }) },
    );
    const error = await rejectionOf(
      client.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'TLS_UNTRUSTED')).toBe(true);
    expect(error['context']).toMatchObject({ tlsCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(error.message).toContain('It is valid for DNS:elsewhere.example, not for 127.0.0.1');
    expect(error.message).not.toContain('TLS-inspecting');
  });
});

describe('the diagnostic handshake', () => {
  it('does not run for a failure that is not about a certificate', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tracked.track(
      () =>
        new Promise((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
    );
    const { port } = server.address() as { port: number };
    const { client } = tracked.client(
      { allowedHosts: [`127.0.0.1:${port}`] },
      { settings: fastSettings({ retry: { maxAttempts: 1 } }) },
    );
    const error = await rejectionOf(
      client.request({ method: 'GET', url: `https://127.0.0.1:${port}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    expect(connections).toBe(1);
  });

  it('gives up after its time bound against a host that never completes a handshake', async () => {
    const held: Socket[] = [];
    const server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tracked.track(async () => {
      held.forEach((socket) => socket.destroy());
      await new Promise((resolve) => {
        server.close(resolve);
      });
    });
    const { port } = server.address() as { port: number };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const probing = probePresentedChain({
        url: new URL(`https://127.0.0.1:${port}/`),
        proxy: undefined,
        proxyCa: undefined,
        timeoutMs: 5_000,
        signal: signal(),
      });
      const [accepted] = (await once(server, 'connection')) as [Socket];
      const closed = once(accepted.resume(), 'close');
      await vi.advanceTimersByTimeAsync(5_000);
      expect(await probing).toEqual({ failure: 'no handshake within 5000 ms' });
      // The probe's socket is closed, not left to the host.
      await closed;
    } finally {
      vi.useRealTimers();
    }
  });

  it("recognises a chain that leads to one of Node's bundled roots, and one that does not", () => {
    const root = new X509Certificate(getCACertificates('bundled')[0] ?? '');
    expect(chainsToPublicRoot([root])).toBe(true);
    expect(chainsToPublicRoot([new X509Certificate(inspectingLeaf.certPem)])).toBe(false);
  });
});
