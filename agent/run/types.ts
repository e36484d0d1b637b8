import type { CheckReport, DiscoveredResource } from '../plugin-api/index.ts';
import type { RunCheckpoint, RunCounts, RunProgress } from '../sink/types.ts';
import type { InlineConnection, Operation, RunSpec } from './spec.ts';

/** Checkpoints and progress counters are the sink's terms; the run model re-uses them. */
export type { RunCheckpoint, RunCounts, RunProgress };

/** The run's shape is defined once, as zod schemas, in spec.ts; these are its types. */
export type { InlineConnection, Operation, RunSpec };

/** Callbacks from the executor to whoever drives it (the CLI or the queue worker). */
export interface RunHooks {
  /** A checkpoint was committed; the daemon stores it in the job so a retry resumes there. */
  onCheckpoint?(checkpoint: RunCheckpoint): Promise<void>;
  /** Called at most every few seconds while assets flow. Must not throw. */
  onProgress?(progress: RunProgress): void;
}

/**
 * What a finished run reports. Failures throw a PerimeterError instead. An extract adds its
 * {@link RunCounts}: per kind, partial, the skipped objects (bounded), reconciled.
 */
export interface RunResult extends Partial<RunCounts> {
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
  /** For an extract held for review: its batches are in the review area, nothing was pushed. */
  readonly awaitingReview?: true;
}

/** Options of one execution. */
export interface ExecuteOptions {
  /** Aborted on shutdown (reason RUN_ABORTED), cancel (RUN_CANCELLED) or timeout (RUN_TIMEOUT). */
  readonly signal: AbortSignal;
  /** The last committed checkpoint, when resuming. */
  readonly checkpoint?: RunCheckpoint;
  readonly hooks?: RunHooks;
  /** An extract writes its batches to the review area instead of the catalog. */
  readonly review?: boolean;
}

/** Runs one RunSpec end to end: connection, policy, secrets, connector, sink, checkpoints. */
export interface RunExecutor {
  execute(spec: RunSpec, options: ExecuteOptions): Promise<RunResult>;
}
