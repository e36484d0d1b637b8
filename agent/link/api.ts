import { z } from 'zod';
import { PerimeterError, isPerimeterError } from '../plugin-api/index.ts';
import type { HttpClient, HttpRequest, HttpResponse } from '../plugin-api/index.ts';
import type { OutboundLedger, OutboundRequest } from '../ledger/ledger.ts';
import type { RunEvent } from '../run/contract.ts';
import { raceAbort } from '../plugin-api/index.ts';
import type { AgentTokenSource, HeartbeatBody, HeartbeatReply } from './types.ts';

/** The body of `POST /v1/instructions/{id}/ack`. */
export type AckBody =
  | { readonly accepted: true }
  | {
      readonly accepted: false;
      readonly error: { readonly code: string; readonly message: string };
    };

/** The four calls of protocol v1 (DESIGN §4), each authenticated with the agent token. */
export interface ControlPlaneApi {
  /** Long-polls for instructions; `[]` on 204. Items are returned unvalidated. */
  pollInstructions(waitSeconds: number, signal: AbortSignal): Promise<unknown[]>;
  ack(instructionId: string, body: AckBody, signal: AbortSignal): Promise<void>;
  heartbeat(body: HeartbeatBody, signal: AbortSignal): Promise<HeartbeatReply>;
  postEvents(runId: string, events: readonly RunEvent[], signal: AbortSignal): Promise<void>;
}

/** Longest answer time of a call, beyond the long-poll's own hold. */
const CALL_TIMEOUT_MS = 30_000;
/** Most instructions taken from one poll answer; the rest are redelivered after their lease. */
const MAX_INSTRUCTIONS_PER_POLL = 10_000;

const EnvelopeSchema = z.object({ instructions: z.array(z.unknown()) });
const HeartbeatReplySchema = z.object({
  pollWaitSeconds: z.number().optional(),
  heartbeatIntervalSeconds: z.number().optional(),
});

const ENDPOINTS = {
  poll: 'GET /v1/agents/{agentId}/instructions',
  ack: 'POST /v1/instructions/{id}/ack',
  heartbeat: 'POST /v1/agents/{agentId}/heartbeat',
  events: 'POST /v1/runs/{runId}/events',
} as const;

/**
 * The control-plane client. Requests go through the agent's HTTP client (destination policy,
 * proxy, CA, mTLS), never retried there: the link's loops own backoff. The token is fetched
 * for every call, so a rotated token is used from the next call on.
 */
export function createControlPlaneApi(options: {
  readonly http: HttpClient;
  /** `controlPlane.url`, without a trailing slash. */
  readonly baseUrl: string;
  readonly agentId: string;
  readonly token: AgentTokenSource;
  /** Records every call that carries a body out: acks, heartbeats, events. */
  readonly ledger?: OutboundLedger;
}): ControlPlaneApi {
  const { baseUrl, agentId } = options;
  const agentPath = `${baseUrl}/v1/agents/${encodeURIComponent(agentId)}`;
  const send = (
    request: Omit<HttpRequest, 'signal' | 'headers' | 'retry'>,
    signal: AbortSignal,
    timeoutMs: number,
    onHandedOver?: () => void,
  ): Promise<HttpResponse> => sendWithin(options, request, { signal, timeoutMs, onHandedOver });
  const post = (
    call: { readonly url: string; readonly json: unknown; readonly endpoint: string },
    record: Pick<OutboundRequest, 'kind' | 'runId'>,
    signal: AbortSignal,
  ): Promise<HttpResponse> =>
    postRecorded(options.ledger, { ...call, record }, (request, onHandedOver) =>
      send(request, signal, CALL_TIMEOUT_MS, onHandedOver),
    );
  return {
    pollInstructions: async (waitSeconds, signal) => {
      const request = {
        method: 'GET',
        url: `${agentPath}/instructions`,
        query: { wait: waitSeconds },
        endpoint: ENDPOINTS.poll,
      } as const;
      const response = await send(request, signal, waitSeconds * 1000 + CALL_TIMEOUT_MS);
      if (response.status === 204) {
        await response.dump();
        return [];
      }
      const envelope = parseBody(await response.text(), EnvelopeSchema, ENDPOINTS.poll);
      return envelope.instructions.slice(0, MAX_INSTRUCTIONS_PER_POLL);
    },
    ack: async (instructionId, body, signal) => {
      const url = `${baseUrl}/v1/instructions/${encodeURIComponent(instructionId)}/ack`;
      const response = await post(
        { url, json: body, endpoint: ENDPOINTS.ack },
        { kind: 'controlPlane.ack' },
        signal,
      );
      await response.dump();
    },
    heartbeat: async (body, signal) => {
      const response = await post(
        { url: `${agentPath}/heartbeat`, json: body, endpoint: ENDPOINTS.heartbeat },
        { kind: 'controlPlane.heartbeat' },
        signal,
      );
      const text = await response.text();
      return text.trim() === ''
        ? {}
        : stripUndefined(parseBody(text, HeartbeatReplySchema, ENDPOINTS.heartbeat));
    },
    postEvents: async (runId, events, signal) => {
      const url = `${baseUrl}/v1/runs/${encodeURIComponent(runId)}/events`;
      const json = { agentId, events };
      const response = await post(
        { url, json, endpoint: ENDPOINTS.events },
        { kind: 'controlPlane.events', runId },
        signal,
      );
      await response.dump();
    },
  };
}

/**
 * Posts a JSON body serialised here, so the ledger digests the exact bytes sent, and records
 * the call once it has an answer, or failed after the request may have left.
 */
async function postRecorded(
  ledger: OutboundLedger | undefined,
  call: {
    readonly url: string;
    readonly json: unknown;
    readonly endpoint: string;
    readonly record: Pick<OutboundRequest, 'kind' | 'runId'>;
  },
  send: (
    request: Omit<HttpRequest, 'signal' | 'headers' | 'retry'>,
    onHandedOver: () => void,
  ) => Promise<HttpResponse>,
): Promise<HttpResponse> {
  const body = JSON.stringify(call.json);
  const record = (status: number | undefined): Promise<void> | undefined =>
    ledger?.record({ ...call.record, method: 'POST', url: call.url, body, status });
  const attempt = { handedOver: false };
  let response: HttpResponse;
  try {
    response = await send({ method: 'POST', url: call.url, body, endpoint: call.endpoint }, () => {
      attempt.handedOver = true;
    });
  } catch (error) {
    // A failure while the token was looked up sent nothing.
    if (attempt.handedOver && mayHaveArrived(error)) {
      const status = error.context['status'];
      await record(typeof status === 'number' ? status : undefined);
    }
    throw error;
  }
  await record(response.status);
  return response;
}

/**
 * Whether a request the HTTP client failed may still have reached the control plane: refused,
 * unanswered, timed out, or aborted (the link stopping) while it was on its way. A destination
 * policy refusal or a failed handshake sent no body.
 */
function mayHaveArrived(error: unknown): error is PerimeterError {
  return isPerimeterError(
    error,
    'CONTROL_PLANE_UNAVAILABLE',
    'CONTROL_PLANE_REJECTED',
    'RUN_ABORTED',
  );
}

async function sendWithin(
  options: { readonly http: HttpClient; readonly token: AgentTokenSource },
  request: Omit<HttpRequest, 'signal' | 'headers' | 'retry'>,
  within: {
    readonly signal: AbortSignal;
    readonly timeoutMs: number;
    /** Called once the token is resolved and the request goes to the HTTP client. */
    readonly onHandedOver?: (() => void) | undefined;
  },
): Promise<HttpResponse> {
  const { signal, timeoutMs } = within;
  const endpoint = request.endpoint ?? request.method;
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(
      new PerimeterError(
        'CONTROL_PLANE_UNAVAILABLE',
        `The control plane did not answer ${endpoint} within ${timeoutMs} ms.`,
        {
          context: { endpoint, timeoutMs },
        },
      ),
    );
  }, timeoutMs);
  const bounded = AbortSignal.any([signal, deadline.signal]);
  try {
    const token = await raceAbort(options.token(), bounded);
    within.onHandedOver?.();
    return await options.http.request({
      ...request,
      headers: {
        authorization: `Bearer ${token.reveal()}`,
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      signal: bounded,
      retry: false,
    });
  } finally {
    clearTimeout(timer);
  }
}

function parseBody<T>(text: string, schema: z.ZodType<T>, endpoint: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidResponse(endpoint, 'a body that is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw invalidResponse(endpoint, 'a body of another shape than protocol v1');
  }
  return parsed.data;
}

function invalidResponse(endpoint: string, what: string): PerimeterError {
  // The body is never quoted: it is the control plane's, and may be anything.
  return new PerimeterError(
    'CONTROL_PLANE_RESPONSE_INVALID',
    `The control plane answered ${endpoint} with ${what}.`,
    {
      context: { endpoint },
    },
  );
}

function stripUndefined(reply: z.output<typeof HeartbeatReplySchema>): HeartbeatReply {
  return {
    ...(reply.pollWaitSeconds === undefined ? {} : { pollWaitSeconds: reply.pollWaitSeconds }),
    ...(reply.heartbeatIntervalSeconds === undefined
      ? {}
      : { heartbeatIntervalSeconds: reply.heartbeatIntervalSeconds }),
  };
}
