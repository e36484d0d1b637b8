import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

/** A loopback HTTP server for a fake, with a close that also drops kept-alive sockets. */
export interface LoopbackServer {
  readonly url: string;
  close(): Promise<void>;
}

/** A server certificate and key (PEM), to serve HTTPS instead of HTTP. */
export interface ServerTls {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * Starts `handler` on 127.0.0.1 on a free port, over HTTPS when `tls` is given. Handler errors
 * answer 500 (a fake's own bug).
 */
export async function startLoopbackServer(
  handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  tls?: ServerTls,
): Promise<LoopbackServer> {
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handler(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`fake failed: ${String(error)}`);
    });
  };
  const server: Server =
    tls === undefined
      ? createServer(listener)
      : createTlsServer({ cert: tls.certPem, key: tls.keyPem }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let closed: Promise<void> | undefined;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** Reads a whole request body. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
