// The HTTP plumbing every fake of an outside service shares (vaults, identity providers): a
// loopback server with a close that drops kept-alive sockets, body reading and JSON answers.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

/** A loopback HTTP server for a fake, with a close that also drops kept-alive sockets. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` or `https://…`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A server certificate and key (PEM), to serve HTTPS instead of HTTP. */
export interface ServerTls {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A fake's request handler; a rejection (a fake's bug, a held request ended by close) is 500. */
export type FakeHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

/** Starts `handler` on 127.0.0.1 on a free port, over HTTPS when `tls` is given. */
export async function startLoopbackServer(
  handler: FakeHandler,
  tls?: ServerTls,
  /** A port to listen on again (a fake that stops listening and comes back); 0: any free one. */
  port = 0,
): Promise<LoopbackServer> {
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handler(request, response).catch(() => {
      if (response.headersSent) {
        response.destroy();
      } else {
        sendJson(response, 500, { error: 'the fake failed' });
      }
    });
  };
  const server: Server =
    tls === undefined
      ? createServer(listener)
      : createTlsServer({ cert: tls.certPem, key: tls.keyPem }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : 0;
  let closed: Promise<void> | undefined;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${bound}`,
    port: bound,
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

/** Answers `body` as JSON with `status` (and extra headers). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}
