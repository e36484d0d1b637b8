import type { SecretValue } from '../plugin-api/index.ts';

/** What the agent reports in each heartbeat (DESIGN §4). No secrets, no references, no config. */
export interface HeartbeatBody {
  readonly agentId: string;
  readonly version: string;
  /** Roles of this process: `link`, `worker`. */
  readonly roles: readonly string[];
  readonly connectors: readonly { readonly name: string; readonly version: string }[];
  /** Store profiles by name and scheme (never endpoints or credentials). */
  readonly secretStores: readonly { readonly profile: string; readonly scheme: string }[];
  readonly queue: {
    readonly waiting: number;
    readonly active: number;
    readonly delayed: number;
    readonly failed: number;
  };
  readonly activeRuns: number;
  readonly health: {
    readonly status: 'ready' | 'degraded' | 'draining' | 'starting';
    /** Dependency name → `ok`, or the error code that made it fail. */
    readonly dependencies: Readonly<Record<string, string>>;
  };
  /** Run events not yet delivered to the control plane. */
  readonly pendingEvents: number;
  /** The outbound ledger's head, `seq:sha256`, as of this heartbeat (before it is recorded). */
  readonly ledgerHead?: string;
}

/** What the control plane may answer to a heartbeat: new intervals. */
export interface HeartbeatReply {
  readonly pollWaitSeconds?: number;
  readonly heartbeatIntervalSeconds?: number;
}

/** The link's state, for /readyz ("link freshness") and /status. */
export interface LinkStatus {
  /** True once a poll succeeded and the last poll or heartbeat is recent enough. */
  readonly fresh: boolean;
  readonly lastPollOkAt: string | undefined;
  readonly lastHeartbeatOkAt: string | undefined;
  readonly consecutiveErrors: number;
  /** Code of the last failure (never its message, which may name hosts). */
  readonly lastErrorCode: string | undefined;
  readonly instructionsAccepted: number;
  readonly instructionsRefused: number;
}

/** The running link. */
export interface Link {
  /** Starts polling, heartbeats and event delivery; returns at once. */
  start(): void;
  /** Stops the loops (in-flight calls aborted), bounded in time. Idempotent. */
  stop(): Promise<void>;
  status(): LinkStatus;
}

/** The agent token, resolved from its secret reference for every call (rotation-safe). */
export type AgentTokenSource = () => Promise<SecretValue>;
