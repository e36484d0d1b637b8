import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testPki } from '../../test/helpers/tls.ts';
import { isPerimeterError } from '../plugin-api/index.ts';
import {
  fastSettings,
  rejectionOf,
  sendJson,
  closedAfterEach,
} from '../../test/helpers/loopback.ts';
import type { Handler, Loopback } from '../../test/helpers/loopback.ts';

const tracked = closedAfterEach();
const { client } = tracked;

const pki = testPki();

async function tlsServer(
  handler: Handler,
  options: { requireClientCert?: boolean } = {},
): Promise<Loopback> {
  return tracked.server(handler, {
    cert: pki.serverCertPem,
    key: pki.serverKeyPem,
    ...(options.requireClientCert === true
      ? { ca: pki.caPem, requestCert: true, rejectUnauthorized: true }
      : {}),
  });
}

/** A loopback CONNECT proxy that records every tunnel it opens. */
async function connectProxy(): Promise<{ url: string; tunnels: string[] }> {
  const tunnels: string[] = [];
  const server: Server = createServer((_request, response) => {
    response.writeHead(405).end();
  });
  server.on('connect', (request, clientSocket, head) => {
    tunnels.push(request.url ?? '');
    const [host = '', port = ''] = (request.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(clientSocket).pipe(upstream);
    });
    upstream.on('error', () => clientSocket.destroy());
    clientSocket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tracked.track(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels };
}

const hello: Handler = (_request, response) => {
  sendJson(response, 200, { hello: 'tls' });
};
const Hello = z.object({ hello: z.string() });
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

describe('TLS', () => {
  it('fails TLS_UNTRUSTED naming the host and caFile when the server certificate is not trusted', async () => {
    const target = await tlsServer(hello);
    const built = client({ allowedHosts: [target.hostPattern] });
    const error = await rejectionOf(
      built.client.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'TLS_UNTRUSTED')).toBe(true);
    expect(error['context']).toMatchObject({
      host: target.hostPattern,
      tlsCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(error.message).toContain('TLS-inspecting proxy');
    expect(error.message).toContain('http.caFile');
    // Not worth retrying: one handshake, then one diagnostic handshake that sends no request.
    expect(target.connections()).toBe(2);
    expect(target.requests).toEqual([]);
  });

  it('trusts the server once its CA is given as extraCaPem', async () => {
    const target = await tlsServer(hello);
    const { client: http } = client(
      { allowedHosts: [target.hostPattern] },
      { extraCaPem: pki.caPem },
    );
    const response = await http.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(await response.json(Hello)).toEqual({ hello: 'tls' });
  });

  it('presents the client certificate to a server that requires one (mTLS)', async () => {
    const target = await tlsServer(
      (request, response) => {
        if (!(request.socket instanceof TLSSocket)) {
          throw new Error('Expected a TLS socket');
        }
        const peer = request.socket.getPeerCertificate();
        sendJson(response, 200, { hello: peer.subject.CN });
      },
      { requireClientCert: true },
    );
    const { client: http } = client(
      { allowedHosts: [target.hostPattern] },
      {
        extraCaPem: pki.caPem,
        clientCert: { certPem: pki.clientCertPem, keyPem: pki.clientKeyPem },
      },
    );
    const response = await http.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(await response.json(Hello)).toEqual({ hello: 'perimeter-test-client' });
  });

  it('is refused by a server that requires a client certificate when none is configured', async () => {
    const target = await tlsServer(hello, { requireClientCert: true });
    const settings = fastSettings({ retry: { maxAttempts: 1 } });
    const { client: http } = client(
      { allowedHosts: [target.hostPattern] },
      { extraCaPem: pki.caPem, settings },
    );
    const error = await rejectionOf(
      http.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
  });
});

describe('proxy', () => {
  it('tunnels an https request through the CONNECT proxy', async () => {
    const target = await tlsServer(hello);
    const proxy = await connectProxy();
    const settings = fastSettings({ httpsProxy: proxy.url });
    const { client: http } = client(
      { allowedHosts: [target.hostPattern] },
      { settings, extraCaPem: pki.caPem },
    );
    const response = await http.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(await response.json(Hello)).toEqual({ hello: 'tls' });
    expect(proxy.tunnels).toEqual([target.hostPattern]);
  });

  it('reaches a host listed in noProxy directly', async () => {
    const target = await tlsServer(hello);
    const proxy = await connectProxy();
    const settings = fastSettings({ httpsProxy: proxy.url, noProxy: 'example.com, 127.0.0.1' });
    const { client: http } = client(
      { allowedHosts: [target.hostPattern] },
      { settings, extraCaPem: pki.caPem },
    );
    const response = await http.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(await response.json(Hello)).toEqual({ hello: 'tls' });
    expect(proxy.tunnels).toEqual([]);
    expect(target.connections()).toBe(1);
  });

  it('checks the policy before asking the proxy for a tunnel', async () => {
    const proxy = await connectProxy();
    const settings = fastSettings({ httpsProxy: proxy.url });
    const { client: http } = client({ allowedHosts: ['api.cyera.io'] }, { settings });
    const error = await rejectionOf(
      http.request({ method: 'GET', url: 'https://evil.example.com/x', signal: signal() }),
    );
    expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    expect(proxy.tunnels).toEqual([]);
  });

  it('registers the proxy password with the redactor', () => {
    const built = client(
      { allowedHosts: ['api.cyera.io'] },
      { settings: fastSettings({ httpsProxy: 'http://svc:proxy-pass-4f1e@127.0.0.1:3128' }) },
    );
    expect(built.logs.redactor.redact('proxy-pass-4f1e')).toBe('[redacted]');
  });
});
