import { afterEach } from 'vitest';
// Loopback servers and a client factory shared by the agent/http tests (not used at runtime).
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { captureLogs } from './capture-logs.ts';
import type { CapturedLogs } from './capture-logs.ts';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import type { Metrics } from '../../agent/metrics/metrics.ts';
import { createHttpClient } from '../../agent/http/client.ts';
import type { HttpClientOptions } from '../../agent/http/client.ts';
import { HttpSettingsSchema } from '../../agent/http/settings.ts';
import type { HttpSettings } from '../../agent/http/settings.ts';
import type { ClosableHttpClient, DestinationPolicy } from '../../agent/http/types.ts';

/** A server on 127.0.0.1 that counts TCP connections and remembers request heads. */
export interface Loopback {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:PORT` or `https://…`. */
  readonly origin: string;
  /** `127.0.0.1:PORT`, as a policy host pattern. */
  readonly hostPattern: string;
  readonly connections: () => number;
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** A request handler of a loopback server. */
export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** Starts a server on an ephemeral port; `tls` makes it https. */
export async function startServer(handler: Handler, tls?: HttpsServerOptions): Promise<Loopback> {
  const requests: Loopback['requests'] = [];
  const listener: RequestListener = (request, response) => {
    requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
    });
    handler(request, response);
  };
  const server: Server =
    tls === undefined ? createHttpServer(listener) : createHttpsServer(tls, listener);
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    origin: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    hostPattern: `127.0.0.1:${port}`,
    connections: () => connections,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

/** Settings with short waits so that retry tests take milliseconds. */
export function fastSettings(overrides: Record<string, unknown> = {}): HttpSettings {
  return HttpSettingsSchema.parse({
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 },
    ...overrides,
  });
}

/** A client with captured logs and its own metrics registry. */
export interface TestClient {
  readonly client: ClosableHttpClient;
  readonly logs: CapturedLogs;
  readonly metrics: Metrics;
}

/** Builds a client for the given policy; everything else defaults to test values. */
export function testClient(
  policy: Partial<DestinationPolicy> & Pick<DestinationPolicy, 'allowedHosts'>,
  options: Partial<Omit<HttpClientOptions, 'policy'>> = {},
): TestClient {
  const logs = captureLogs();
  const metrics = createMetrics();
  const client = createHttpClient({
    policy: { allowedCalls: [], ...policy },
    settings: fastSettings(),
    redactor: logs.redactor,
    logger: logs.logger,
    errorDomain: 'source',
    userAgent: 'perimeter/test',
    metrics,
    ...options,
  });
  return { client, logs, metrics };
}

/** Resolves with what a promise rejects with; fails when it resolves. */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('Expected a rejection');
}

/** A JSON answer. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(value));
}

/** Servers and clients of one test file, closed after each test. */
export interface TrackedLoopback {
  server(handler: Handler, tls?: HttpsServerOptions): Promise<Loopback>;
  client(...args: Parameters<typeof testClient>): TestClient;
  /** Any other cleanup to run after the test. */
  track(cleanup: () => Promise<void>): void;
}

/** Registers an `afterEach` that closes every server and client made through the result. */
export function closedAfterEach(): TrackedLoopback {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map(async (cleanup) => cleanup()));
  });
  return {
    server: async (handler, tls) => {
      const started = await startServer(handler, tls);
      cleanups.push(started.close);
      return started;
    },
    client: (...args) => {
      const built = testClient(...args);
      cleanups.push(built.client.close);
      return built;
    },
    track: (cleanup) => {
      cleanups.push(cleanup);
    },
  };
}
