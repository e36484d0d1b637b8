import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket, connect as tlsConnect, createSecureContext } from 'node:tls';

/**
 * A TLS-inspecting CONNECT proxy, as some corporate networks run: it answers every tunnel with
 * its own certificate (`leaf`, from its own CA), decrypts, and forwards to the real server over
 * TLS it verifies against `upstreamCa`.
 */
export interface MitmProxy {
  readonly url: string;
  /** The `host:port` targets of every CONNECT received. */
  readonly tunnels: string[];
  /** Decrypted bytes clients sent through the proxy (request bytes). */
  bytesFromClients(): number;
  close(): Promise<void>;
}

/** Starts a TLS-inspecting proxy on a free loopback port. */
export async function startMitmProxy(options: {
  readonly leaf: { readonly certPem: string; readonly keyPem: string };
  readonly upstreamCa: string;
}): Promise<MitmProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const secureContext = createSecureContext({
    cert: options.leaf.certPem,
    key: options.leaf.keyPem,
  });
  let bytes = 0;
  const server = createServer((_request, response) => {
    response.writeHead(405).end();
  });
  server.on('connect', (request, client: Socket, head: Buffer) => {
    const target = request.url ?? '';
    tunnels.push(target);
    track(client);
    const [host = '', port = '443'] = target.split(':');
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) {
      client.unshift(head);
    }
    const inner = new TLSSocket(client, { isServer: true, secureContext });
    track(inner);
    inner.on('error', () => client.destroy());
    inner.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    inner.once('secure', () => {
      const upstream = tlsConnect({ host, port: Number(port), ca: options.upstreamCa });
      track(upstream);
      upstream.on('error', () => inner.destroy());
      inner.pipe(upstream).pipe(inner);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    bytesFromClients: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
