import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import {
  HttpProblem,
  checkBatchHeaders,
  checkContentType,
  checkToken,
  decodeBatch,
  loadAssetValidator,
  parseComplete,
} from './catalog/checks.ts';
import { FaultPlan } from './catalog/faults.ts';
import type { CatalogFault, ChaosOptions } from './catalog/faults.ts';
import { CatalogStore } from './catalog/store.ts';
import type { CompleteCall, Conflict, StoredBatch } from './catalog/store.ts';

export type { CatalogFault, ChaosOptions, CompleteCall, Conflict, StoredBatch };

const WHOAMI_PATH = '/v1/whoami';
const ROUTE = /^\/v1\/runs\/([^/]+)\/(batches|complete)$/;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** One request as it reached the receiver, for canary scans and OpenAPI checks. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body bytes (gzip for batches); partial when the connection was dropped. */
  readonly body: Buffer;
  /** The status answered, or `dropped`. */
  readonly outcome: number | 'dropped';
}

/** Options of {@link startCatalogReceiver}. */
export interface CatalogReceiverOptions {
  /** When set, every call must carry `Authorization: Bearer <token>` (401 otherwise). */
  readonly token?: string;
  /** Serve HTTPS with this certificate (see test/helpers/tls.ts). */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
}

/** A fake catalog speaking DESIGN §5 on 127.0.0.1, with fault injection. */
export interface CatalogReceiver {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** How many stored batches carried each qualifiedName. */
  assetCounts(): ReadonlyMap<string, number>;
  batches(runId?: string): StoredBatch[];
  /** Repeated keys (answered 200). */
  readonly duplicates: number;
  /** Repeated keys whose content differed: must stay empty. */
  readonly conflicts: readonly Conflict[];
  readonly completes: readonly CompleteCall[];
  /** Faults injected so far by label (`status429`, `drop-after-store`, ...). */
  readonly injected: ReadonlyMap<string, number>;
  /** Queues scripted faults, each for the next matching call. */
  script(...faults: CatalogFault[]): void;
  /** Probabilistic faults on batch calls (seeded); `undefined` turns them off. */
  chaos(options: ChaosOptions | undefined): void;
  /** Drops the scripted faults left and turns chaos off. */
  clearFaults(): void;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 on a free port. */
export async function startCatalogReceiver(
  options: CatalogReceiverOptions = {},
): Promise<CatalogReceiver> {
  const store = new CatalogStore();
  const faults = new FaultPlan();
  const requests: RecordedRequest[] = [];
  const validateAsset = loadAssetValidator();
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    handleRequest(request, response, { options, store, faults, requests, validateAsset }).catch(
      () => {
        // The client went away mid-body (an aborted request): nothing left to answer.
        request.socket.destroy();
      },
    );
  };
  const server: Server =
    options.tls === undefined
      ? createHttpServer(handle)
      : createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls === undefined ? 'http' : 'https';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    requests,
    assetCounts: () => store.assetCounts(),
    batches: (runId) => store.batches(runId),
    get duplicates() {
      return store.duplicates;
    },
    conflicts: store.conflicts,
    completes: store.completes,
    injected: faults.injected,
    script: (...list) => {
      faults.script(...list);
    },
    chaos: (chaos) => {
      faults.chaos(chaos);
    },
    clearFaults: () => {
      faults.clear();
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

interface Context {
  readonly options: CatalogReceiverOptions;
  readonly store: CatalogStore;
  readonly faults: FaultPlan;
  readonly requests: RecordedRequest[];
  readonly validateAsset: ValidateFunction;
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  context: Context,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://receiver').pathname;
  const record = (body: Buffer, outcome: number | 'dropped'): void => {
    context.requests.push({
      method: request.method ?? '',
      path,
      headers: flatten(request),
      body,
      outcome,
    });
  };
  if (path === WHOAMI_PATH) {
    const answer = answerWhoami(request, context);
    record(Buffer.alloc(0), answer.status);
    send(response, answer.status, answer.json, answer.headers);
    return;
  }
  const route = ROUTE.exec(path);
  const call = route?.[2] === 'complete' ? 'complete' : 'batches';
  const fault = route === null ? undefined : context.faults.next(call);
  if (fault?.kind === 'drop' && fault.when !== 'after-store') {
    record(Buffer.alloc(0), 'dropped');
    request.socket.destroy();
    return;
  }
  const body = await readBody(request);
  if (body === undefined) {
    record(Buffer.alloc(0), 413);
    send(
      response,
      413,
      { error: { code: 'too_large', message: 'body too large' } },
      { connection: 'close' },
    );
    return;
  }
  if (fault?.kind === 'slow') {
    await sleep(fault.delayMs);
  }
  if (fault?.kind === 'garbage') {
    record(body, 200);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(fault.body ?? '<html>200 OK</html>');
    return;
  }
  const answer = faultAnswer(fault) ?? answerRoute(route, request, body, context);
  if (fault?.kind === 'drop') {
    record(body, 'dropped');
    request.socket.destroy();
    return;
  }
  record(body, answer.status);
  send(response, answer.status, answer.json, answer.headers);
}

interface Answer {
  readonly status: number;
  readonly json: unknown;
  readonly headers?: Record<string, string>;
}

function faultAnswer(fault: CatalogFault | undefined): Answer | undefined {
  if (fault?.kind !== 'status') {
    return undefined;
  }
  const headers: Record<string, string> =
    fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
  return {
    status: fault.status,
    json: { error: { code: 'injected', message: 'injected fault' } },
    headers,
  };
}

function answerRoute(
  route: RegExpExecArray | null,
  request: IncomingMessage,
  body: Buffer,
  context: Context,
): Answer {
  try {
    if (route === null) {
      throw new HttpProblem(404, 'not_found', 'no such route');
    }
    if (request.method !== 'POST') {
      throw new HttpProblem(405, 'method_not_allowed', 'only POST', { allow: 'POST' });
    }
    checkToken(request.headers, context.options.token);
    const runId = decodeURIComponent(route[1] ?? '');
    return route[2] === 'complete'
      ? completeRun(runId, request, body, context)
      : storeBatch(runId, request, body, context);
  } catch (error) {
    if (error instanceof HttpProblem) {
      return {
        status: error.status,
        json: { error: { code: error.code, message: error.message } },
        headers: { ...error.headers },
      };
    }
    return { status: 500, json: { error: { code: 'internal', message: 'receiver bug' } } };
  }
}

/** `GET /v1/whoami`: checks the token and changes nothing. */
function answerWhoami(request: IncomingMessage, context: Context): Answer {
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new HttpProblem(405, 'method_not_allowed', 'only GET', { allow: 'GET, HEAD' });
    }
    checkToken(request.headers, context.options.token);
    return { status: 200, json: { authenticated: context.options.token !== undefined } };
  } catch (error) {
    const problem = error as HttpProblem;
    return {
      status: problem.status,
      json: { error: { code: problem.code, message: problem.message } },
      headers: { ...problem.headers },
    };
  }
}

function storeBatch(
  runId: string,
  request: IncomingMessage,
  body: Buffer,
  context: Context,
): Answer {
  const key = checkBatchHeaders(request.headers, runId);
  const { ndjson, qualifiedNames } = decodeBatch(body, context.validateAsset);
  const outcome = context.store.put(key, ndjson, qualifiedNames);
  return outcome === 'stored'
    ? { status: 202, json: { key: key.raw, assets: qualifiedNames.length } }
    : { status: 200, json: { key: key.raw, duplicate: true } };
}

function completeRun(
  runId: string,
  request: IncomingMessage,
  body: Buffer,
  context: Context,
): Answer {
  checkContentType(request.headers, 'application/json');
  const claim = parseComplete(body);
  const { missingSeqs, storedAssets } = context.store.checkComplete(runId, claim.batches);
  if (missingSeqs > 0 || storedAssets !== claim.assets) {
    throw new HttpProblem(
      409,
      'incomplete',
      `${missingSeqs} batch(es) missing or asset count differs`,
    );
  }
  context.store.completes.push({ runId, ...claim });
  return { status: 200, json: { runId, complete: true } };
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(
  response: ServerResponse,
  status: number,
  json: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(json);
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(text);
}

function flatten(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return headers;
}
