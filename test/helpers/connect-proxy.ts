import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A forward proxy that tunnels HTTPS with CONNECT, as a corporate egress proxy does. */
export interface ConnectProxy {
  readonly url: string;
  /** The `host:port` targets of every CONNECT received. */
  readonly tunnels: string[];
  close(): Promise<void>;
}

/** Starts a CONNECT proxy on a free loopback port. */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_request, response) => {
    response.writeHead(405).end();
  });
  server.on('connect', (request, client: Socket) => {
    const target = request.url ?? '';
    tunnels.push(target);
    const [host = '', port = '443'] = target.split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) {
          socket.destroy();
        }
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
