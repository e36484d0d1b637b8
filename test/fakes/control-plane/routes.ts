import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallName } from './faults.ts';
import type { RecordedRequest } from './records.ts';
import { RawInstruction, envelopeText } from './raw.ts';
import type { ControlPlaneState } from './state.ts';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const ROUTES: readonly {
  readonly call: CallName;
  readonly method: string;
  readonly pattern: RegExp;
}[] = [
  { call: 'agent', method: 'GET', pattern: /^\/v1\/agents\/([^/]+)$/ },
  { call: 'poll', method: 'GET', pattern: /^\/v1\/agents\/([^/]+)\/instructions$/ },
  { call: 'heartbeat', method: 'POST', pattern: /^\/v1\/agents\/([^/]+)\/heartbeat$/ },
  { call: 'ack', method: 'POST', pattern: /^\/v1\/instructions\/([^/]+)\/ack$/ },
  { call: 'events', method: 'POST', pattern: /^\/v1\/runs\/([^/]+)\/events$/ },
];

type Answer = (status: number, value?: unknown, headers?: Record<string, string>) => void;

/** One request being handled: what it asked and how to answer it. */
interface Exchange {
  readonly recorded: RecordedRequest;
  readonly url: URL;
  readonly json: unknown;
  readonly response: ServerResponse;
  readonly answer: Answer;
}

/** The request listener of the fake: records every request, applies faults, answers protocol v1. */
export function controlPlaneHandler(
  state: ControlPlaneState,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(state, request, response).catch(() => {
      response.destroy();
    });
  };
}

async function handle(
  state: ControlPlaneState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const body = await readBody(request);
  const recorded: RecordedRequest = {
    method: request.method ?? '',
    path: request.url ?? '',
    headers: flatHeaders(request),
    body,
    atMs: Date.now(),
    status: 0,
  };
  state.records.requests.push(recorded);
  const fault = (() => {
    const route = ROUTES.find((r) =>
      r.pattern.test(new URL(recorded.path, 'http://fake').pathname),
    );
    return route?.method === recorded.method ? state.faults.next(route.call) : undefined;
  })();
  const answer: Answer = (status, value, headers = {}) => {
    recorded.status = status;
    if (fault?.kind === 'drop-after-store') {
      // Handled and stored, but the answer is lost on the way.
      response.destroy();
      return;
    }
    const text =
      value === undefined
        ? ''
        : value instanceof RawInstruction
          ? value.text
          : JSON.stringify(value);
    response.writeHead(status, {
      ...(text === '' ? {} : { 'content-type': 'application/json' }),
      ...headers,
    });
    response.end(text);
  };
  const url = new URL(recorded.path, 'http://fake');
  const route = ROUTES.find((r) => r.pattern.test(url.pathname));
  if (route?.method !== recorded.method) {
    answer(404, { error: 'no such call' });
    return;
  }
  if (fault?.kind === 'status') {
    const retryAfter: Record<string, string> =
      fault.retryAfterSeconds === undefined
        ? {}
        : { 'retry-after': String(fault.retryAfterSeconds) };
    answer(fault.status, { error: 'injected fault' }, retryAfter);
    return;
  }
  if (fault?.kind === 'slow' && !(await heldWhileOpen(response, fault.delayMs))) {
    // The agent gave up on the call (abort, stop) before its answer: nothing is handled.
    return;
  }
  if (recorded.headers['authorization'] !== `Bearer ${state.token}`) {
    answer(401, { error: 'unauthorized' });
    return;
  }
  const param = decodeURIComponent(route.pattern.exec(url.pathname)?.[1] ?? '');
  await dispatch(state, route.call, param, {
    recorded,
    url,
    json: parseJson(body),
    response,
    answer,
  });
}

async function dispatch(
  state: ControlPlaneState,
  call: CallName,
  param: string,
  exchange: Exchange,
): Promise<void> {
  const { answer, json } = exchange;
  switch (call) {
    case 'agent':
      // Read-only: who the token is, and nothing leased or recorded.
      answer(200, { agentId: param });
      return;
    case 'poll':
      await poll(state, param, exchange);
      return;
    case 'heartbeat':
      state.records.heartbeats.push(json as Record<string, unknown>);
      answer(200, state.heartbeatReply);
      return;
    case 'ack': {
      const problem = state.records.ack(param, json);
      if (problem !== undefined) {
        answer(400, { error: problem });
        return;
      }
      state.queues().forEach((queue) => queue.acknowledge(param));
      answer(204);
      return;
    }
    case 'events': {
      const result = state.records.events(param, json);
      answer(
        typeof result === 'string' ? 400 : 200,
        typeof result === 'string' ? { error: result } : result,
      );
      return;
    }
  }
}

/** Holds the poll until instructions are ready (issued, or a lease ended) or `wait` passes. */
async function poll(state: ControlPlaneState, agentId: string, exchange: Exchange): Promise<void> {
  const { answer, response } = exchange;
  const waitSeconds = Number(exchange.url.searchParams.get('wait') ?? '0');
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 60) {
    answer(400, { error: 'wait must be an integer from 0 to 60' });
    return;
  }
  const queue = state.queueOf(agentId);
  const deadlineMs = Date.now() + waitSeconds * 1000;
  // A poll the agent gave up on (abort, stop) must not lease instructions to nobody.
  const connection = { gone: false };
  response.once('close', () => {
    connection.gone = true;
    state.wake();
  });
  for (;;) {
    if (connection.gone) {
      return;
    }
    const instructions = queue.take(state.maxPerPoll);
    if (instructions.length > 0) {
      answer(200, new RawInstruction(envelopeText(instructions)));
      return;
    }
    const remainingMs = deadlineMs - Date.now();
    if (remainingMs <= 0) {
      answer(204);
      return;
    }
    await state.sleepUntilWoken(Math.min(remainingMs, queue.nextLeaseEndMs() ?? remainingMs));
  }
}

/** Waits `ms` before answering; false (sooner) when the agent closes the connection first. */
async function heldWhileOpen(response: ServerResponse, ms: number): Promise<boolean> {
  const gone = new AbortController();
  const onClose = (): void => {
    gone.abort();
  };
  response.once('close', onClose);
  try {
    await sleep(ms, undefined, { signal: gone.signal });
    return true;
  } catch {
    return false;
  } finally {
    response.off('close', onClose);
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_BODY_BYTES) {
      throw new Error('body too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) {
      flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return flat;
}

function parseJson(body: Buffer): unknown {
  try {
    return body.length === 0 ? undefined : (JSON.parse(body.toString('utf8')) as unknown);
  } catch {
    return undefined;
  }
}
