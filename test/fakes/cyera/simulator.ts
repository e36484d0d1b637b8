import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CyeraFaults, TokenStore, emptyStats } from './control.ts';
import type { CyeraSimulatorStats } from './control.ts';
import { handle } from './handler.ts';
import type { SimulatorState } from './handler.ts';
import type { StreamLayout } from './table-stream.ts';
import { SimulatedTenant } from './tenant.ts';
import type { CyeraTenantSize } from './tenant.ts';

export type { CyeraSimulatorStats } from './control.ts';

/** How to start a simulator. Everything is optional. */
export interface CyeraSimulatorOptions {
  /** Makes the tenant's records (same seed, same records). @default 1 */
  readonly seed?: number;
  readonly size?: Partial<CyeraTenantSize>;
  /** The valid client id. @default a fixed UUID */
  readonly clientId?: string;
  /** The valid secret (the conformance canary). @default a fixed UUID */
  readonly secret?: string;
  /** `expiresIn` of issued JWTs, in seconds; they really expire. @default 86400 */
  readonly expiresInSeconds?: number;
  readonly layout?: Partial<StreamLayout>;
  /** Listen port on 127.0.0.1. @default any free port */
  readonly port?: number;
}

/** A running simulator of Cyera's API on loopback, with switches for every fault. */
export interface CyeraSimulator {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`, for a destination policy. */
  readonly host: string;
  readonly tenant: SimulatedTenant;
  readonly clientId: string;
  readonly secret: string;
  /** `METHOD /path` (no query) of every request received, in order. */
  requests(): readonly string[];
  /** Full request targets (path and query) of every GET, for paging assertions. */
  targets(): readonly string[];
  /** `METHOD /path` of every refused call: any non-GET besides `POST /v1/login`. */
  refused(): readonly string[];
  stats(): CyeraSimulatorStats;
  /** From now on logins answer 401. */
  rejectCredentials(): void;
  /** From now on data calls answer `status` (401 or 403) whatever the token. */
  rejectTokens(status?: number): void;
  /** The next `times` data calls answer 429 with `Retry-After: <seconds>`. */
  rateLimit(retryAfterSeconds: number, times?: number): void;
  /** The next `times` data calls answer `status` (5xx). */
  failWith(status: number, times?: number): void;
  /** Every data response waits `ms` first; streams wait `ms` per line. */
  slowDown(ms: number): void;
  /** Every token issued so far is expired now. */
  expireTokens(): void;
  /** On the next stream, after `afterLines` lines, every token expires and the body ends early. */
  expireTokensMidStream(afterLines: number): void;
  /** The next `times` streams drop the connection in the middle of line `afterLines + 1`. */
  dropConnection(afterLines: number, times?: number): void;
  /** Line `lineNumber` (1-based, blank lines count) of streams is not JSON. */
  malformedLine(lineNumber: number, datastoreUid?: string): void;
  /** Every switch off. */
  restore(): void;
  close(): Promise<void>;
}

const DEFAULT_CLIENT_ID = '5f0c2a9e-3b7d-4c1e-9a8f-2d6b4e1c7a30';
const DEFAULT_SECRET = 'c3a1e7d2-8f4b-4a6c-b5e9-0d2f7a8c1b64';

/** Starts the simulator on 127.0.0.1. */
export async function startCyeraSimulator(
  options: CyeraSimulatorOptions = {},
): Promise<CyeraSimulator> {
  const state = initialState(options);
  const server = createServer((request, response) => {
    handle(state, request, response).catch(() => {
      response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    tenant: state.tenant,
    clientId: state.clientId,
    secret: state.secret,
    requests: () => [...state.requests],
    targets: () => [...state.targets],
    refused: () => [...state.refused],
    stats: () => ({ ...state.stats }),
    ...switches(state),
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        state.closing.abort();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      })),
  };
}

function initialState(options: CyeraSimulatorOptions): SimulatorState {
  return {
    options,
    tenant: new SimulatedTenant(options.seed ?? 1, options.size),
    clientId: options.clientId ?? DEFAULT_CLIENT_ID,
    secret: options.secret ?? DEFAULT_SECRET,
    layout: {
      lineEnding: '\n',
      blankLineEvery: 0,
      chunkBytes: undefined,
      announceTotal: true,
      ...options.layout,
    },
    faults: new CyeraFaults(),
    tokens: new TokenStore(),
    stats: emptyStats(),
    requests: [],
    targets: [],
    refused: [],
    closing: new AbortController(),
  };
}

type Switches = Omit<
  CyeraSimulator,
  | 'url'
  | 'host'
  | 'tenant'
  | 'clientId'
  | 'secret'
  | 'requests'
  | 'targets'
  | 'refused'
  | 'stats'
  | 'close'
>;

function switches({ faults, tokens }: SimulatorState): Switches {
  return {
    rejectCredentials: () => {
      faults.rejectCredentials = true;
    },
    rejectTokens: (status = 401) => {
      faults.rejectTokens = status;
    },
    rateLimit: (retryAfterSeconds, times = Number.POSITIVE_INFINITY) => {
      faults.rateLimit = { retryAfterSeconds, remaining: times };
    },
    failWith: (status, times = Number.POSITIVE_INFINITY) => {
      faults.serverErrors = { status, remaining: times };
    },
    slowDown: (ms) => {
      faults.slowMs = ms;
    },
    expireTokens: () => {
      tokens.revokeAll();
    },
    expireTokensMidStream: (afterLines) => {
      faults.expireMidStream = { afterLines, remaining: 1 };
    },
    dropConnection: (afterLines, times = 1) => {
      faults.drop = { afterLines, remaining: times };
    },
    malformedLine: (lineNumber, datastoreUid) => {
      faults.malformed = { lineNumber, datastoreUid };
    },
    restore: () => {
      faults.restore();
    },
  };
}
