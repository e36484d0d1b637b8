import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { CallName, ControlPlaneFault, FaultPlan } from './faults.ts';
import type { RecordedAck, RecordedRequest, ReceivedEvent, Records } from './records.ts';
import { controlPlaneHandler } from './routes.ts';
import { InstructionSigner } from './signing.ts';
import { ControlPlaneState } from './state.ts';

export type { CallName, ControlPlaneFault, RecordedAck, RecordedRequest, ReceivedEvent };
export { draft, runDraft } from './signing.ts';
export { RawInstruction } from './raw.ts';
export type { DraftOptions, InstructionDraft } from './signing.ts';

/** Options of {@link startFakeControlPlane}. */
export interface FakeControlPlaneOptions {
  /** The agent token every call must carry as `Authorization: Bearer …`. @default random */
  readonly token?: string;
  /** How long a delivered, unacknowledged instruction waits before it is delivered again. @default 30000 */
  readonly leaseMs?: number;
  /** Most instructions in one poll answer. @default 100 */
  readonly maxPerPoll?: number;
  /** Serve HTTPS; `requireClientCert` with `caPem` demands an mTLS client certificate. */
  readonly tls?: {
    readonly certPem: string;
    readonly keyPem: string;
    readonly caPem?: string;
    readonly requireClientCert?: boolean;
  };
}

/** A fake control plane speaking protocol v1 (DESIGN §4) on 127.0.0.1, with an Ed25519 key. */
export interface FakeControlPlane {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Its signing key: `signer.sign(draft)`, `tamper`, `signWithOtherKey`, `publicKeyPem`. */
  readonly signer: InstructionSigner;
  /** Every request (method, path, headers, body, status), acks, events per run, heartbeats. */
  readonly records: Records;
  readonly faults: FaultPlan;
  /** The token currently required (change it with `rotateToken`). */
  readonly token: string;
  /** Queues instructions (anything: tests also send junk) for an agent. */
  issue(items: unknown, agentId: string): void;
  /** How often an instruction id was delivered. */
  deliveries(instructionId: string): number;
  /** Instructions of an agent not yet acknowledged. */
  queued(agentId: string): number;
  /** Sets what heartbeats are answered with (`{}` by default). */
  setHeartbeatReply(reply: Record<string, unknown>): void;
  rotateToken(token: string): void;
  /** Answers with a fault instead (503, 401, 429 …, or slowly) until it runs out. */
  fail(fault: ControlPlaneFault): void;
  /** Stops listening (connections refused) for `forMs`, then listens again on the same port. */
  down(forMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the fake on an ephemeral port of 127.0.0.1. */
export async function startFakeControlPlane(
  options: FakeControlPlaneOptions = {},
): Promise<FakeControlPlane> {
  const state = new ControlPlaneState(options);
  const server = createServer(options, state);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const stopListening = async (): Promise<void> => {
    state.wake();
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  };
  let closed = false;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    signer: new InstructionSigner(),
    records: state.records,
    faults: state.faults,
    get token() {
      return state.token;
    },
    issue: (items, agentId) => {
      state.queueOf(agentId).push(Array.isArray(items) ? items : [items]);
      state.wake();
    },
    deliveries: (id) =>
      state.queues().reduce((sum, queue) => sum + (queue.deliveryCounts.get(id) ?? 0), 0),
    queued: (agentId) => state.queueOf(agentId).size,
    setHeartbeatReply: (reply) => {
      state.heartbeatReply = reply;
    },
    rotateToken: (token) => {
      state.token = token;
    },
    fail: (fault) => {
      state.faults.add(fault);
    },
    down: async (forMs) => {
      await stopListening();
      setTimeout(() => {
        if (!closed) {
          server.listen(port, '127.0.0.1');
        }
      }, forMs);
    },
    close: async () => {
      closed = true;
      if (server.listening) {
        await stopListening();
      }
    },
  };
}

function createServer(options: FakeControlPlaneOptions, state: ControlPlaneState): Server {
  const handler = controlPlaneHandler(state);
  if (options.tls === undefined) {
    return createHttpServer(handler);
  }
  const demandCert = options.tls.requireClientCert === true;
  return createHttpsServer(
    {
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      ...(options.tls.caPem === undefined ? {} : { ca: options.tls.caPem }),
      requestCert: demandCert,
      rejectUnauthorized: demandCert,
    },
    handler,
  );
}
