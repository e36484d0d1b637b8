import type { Connector } from '../../agent/plugin-api/index.ts';

/**
 * What each connector gives the connector conformance suite: its source simulator, started on
 * loopback, and a connection pointing at it. One fixture per connector, listed in
 * `connector-fixtures.ts`.
 */
export interface ConnectorFixture {
  readonly connector: Connector;
  /** Names the suite when a connector has several fixtures (one per auth mode). @default its name */
  readonly label?: string;
  /** Starts the simulator; `canary` must be used as the connection's secret credential. */
  start(options: { readonly canary: string }): Promise<ConnectorHarness>;
}

export interface ConnectorHarness {
  /**
   * The connection settings as a job file gives them, except that credentials are given as
   * plain strings (the suite wraps them into SecretValues). The secret one holds the canary.
   */
  readonly config: Record<string, unknown> & { credentials: Record<string, string> };
  /** Params of a small extract (the suite checks every asset and every resume point). */
  readonly params: Record<string, unknown>;
  /**
   * Every host the simulator serves, e.g. `127.0.0.1:43121`. The connection must declare an
   * endpoint on each; the suite's client reaches only the declared endpoints and these.
   */
  readonly allowedHosts: readonly string[];
  /** From now on the source rejects the credentials (401 on login or token exchange). */
  rejectCredentials(): void;
  /** From now on data calls answer 429 with `Retry-After: <seconds>`. */
  rateLimit(retryAfterSeconds: number): void;
  /** Every data response is slowed down by `ms` (to test abort). */
  slowDown(ms: number): void;
  /** Back to normal. */
  restore(): void;
  /** `METHOD /path` (no query) of every request the simulator received. */
  requests(): readonly string[];
  close(): Promise<void>;
}

/** The fault switches every source simulator offers, named as the harness calls them. */
export interface SimulatorSwitches {
  rejectCredentials(): void;
  rateLimit(retryAfterSeconds: number): void;
  slowDown(ms: number): void;
  restore(): void;
  requests(): readonly string[];
  close(): Promise<void>;
}

/** A harness's fault switches, forwarded to its simulator (one place, not one copy per fixture). */
export function harnessSwitches(
  simulator: SimulatorSwitches,
): Pick<
  ConnectorHarness,
  'rejectCredentials' | 'rateLimit' | 'slowDown' | 'restore' | 'requests' | 'close'
> {
  return {
    rejectCredentials: () => {
      simulator.rejectCredentials();
    },
    rateLimit: (seconds) => {
      simulator.rateLimit(seconds);
    },
    slowDown: (ms) => {
      simulator.slowDown(ms);
    },
    restore: () => {
      simulator.restore();
    },
    requests: () => simulator.requests(),
    close: () => simulator.close(),
  };
}
