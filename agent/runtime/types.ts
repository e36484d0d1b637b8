import type {
  CheckReport,
  DiscoveredResource,
  JsonObject,
  JsonValue,
} from '../plugin-api/index.ts';

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

/** The committed state of a run: enough to resume it and to keep batch numbers stable. */
export interface RunCheckpoint {
  /** The connector's cursor at the last batch boundary whose batches were all acknowledged. */
  readonly cursor: JsonValue;
  /** Sequence number of the next batch. */
  readonly nextSeq: number;
  /** Totals of the acknowledged batches so far. */
  readonly assets: number;
  readonly bytes: number;
}

/** Counters reported while a run goes on. */
export interface RunProgress {
  readonly assets: number;
  readonly batches: number;
  readonly bytes: number;
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
