import type { CheckReport, DiscoveredResource, JsonObject } from '../plugin-api/index.ts';
import type { RunCheckpoint, RunProgress } from '../sink/types.ts';

/** Checkpoints and progress counters are the sink's terms; the run model re-uses them. */
export type { RunCheckpoint, RunProgress };

/** The three operations a run may perform. */
export type Operation = 'extract' | 'discover' | 'check';

/** A connection given inline: connector name and settings, credentials as secret references. */
export interface InlineConnection {
  readonly connector: string;
  /** Settings as the connector's configSchema expects them; `credentials` maps names to references. */
  readonly config: JsonObject;
}

/**
 * A run as it travels: from a job file, a config job or a control-plane instruction, through
 * the queue (this is the BullMQ job payload) to the executor. References only, never values.
 */
export interface RunSpec {
  /** Unique id; also the queue job id: `[A-Za-z0-9._-]`, 1 to 128 chars, not all digits. */
  readonly runId: string;
  readonly operation: Operation;
  /** A connection defined in the local config (exactly one of connectionId or connection). */
  readonly connectionId?: string;
  readonly connection?: InlineConnection;
  readonly params: JsonObject;
  /**
   * Where the run came from. Inline connections from the control plane may only use the secret
   * references the local policy lists for their connector (`policy.connectors.<name>.inlineSecretRefs`).
   */
  readonly origin: 'local' | 'controlPlane';
}

/** Callbacks from the executor to whoever drives it (the CLI or the queue worker). */
export interface RunHooks {
  /** A checkpoint was committed; the daemon stores it in the job so a retry resumes there. */
  onCheckpoint?(checkpoint: RunCheckpoint): Promise<void>;
  /** Called at most every few seconds while assets flow. Must not throw. */
  onProgress?(progress: RunProgress): void;
}

/** What a finished run reports. Failures throw a PerimeterError instead. */
export interface RunResult {
  readonly runId: string;
  readonly operation: Operation;
  readonly connector: string;
  readonly assets: number;
  readonly batches: number;
  readonly bytes: number;
  readonly durationMs: number;
  /** For `discover`: the selectable resources. */
  readonly resources?: readonly DiscoveredResource[];
  /** For `check`: the connector's summary line. */
  readonly check?: CheckReport;
}

/** Options of one execution. */
export interface ExecuteOptions {
  /** Aborted on shutdown (reason RUN_ABORTED), cancel (RUN_CANCELLED) or timeout (RUN_TIMEOUT). */
  readonly signal: AbortSignal;
  /** The last committed checkpoint, when resuming. */
  readonly checkpoint?: RunCheckpoint;
  readonly hooks?: RunHooks;
}

/** Runs one RunSpec end to end: connection, policy, secrets, connector, sink, checkpoints. */
export interface RunExecutor {
  execute(spec: RunSpec, options: ExecuteOptions): Promise<RunResult>;
}
