import type { ErrorSummary } from '../plugin-api/index.ts';
import type { RunProgress, RunResult, RunSpec } from './types.ts';
import type { ScheduleSpec } from './spec.ts';

/**
 * The contract between the link (agent/link: control plane → instructions, events → control
 * plane) and the queue side (agent/queue: BullMQ queue, workers, schedulers, event outbox). The
 * two may live in different processes (`--role link` and `--role worker`), so everything here
 * travels through Redis.
 */

/** A run's lifecycle event, as forwarded to the control plane (DESIGN §4). No secret values. */
export type RunEventBody =
  | { readonly type: 'queued' }
  | { readonly type: 'started'; readonly attempt: number }
  | { readonly type: 'progress'; readonly attempt: number; readonly progress: RunProgress }
  | { readonly type: 'succeeded'; readonly attempt: number; readonly result: RunOutcome }
  /** Final: the extract's batches wait in the review area; nothing was pushed. */
  | { readonly type: 'awaiting_review'; readonly attempt: number; readonly result: RunOutcome }
  | {
      readonly type: 'failed';
      readonly attempt: number;
      readonly error: Pick<ErrorSummary, 'code' | 'message' | 'retryable'>;
      readonly willRetry: boolean;
    }
  | { readonly type: 'cancelled'; readonly attempt: number };

/** What a succeeded run reports: the executor's result without the id the event already has. */
export type RunOutcome = Omit<RunResult, 'runId'>;

/** An event with its place: `seq` increases by one per event of a run, from 0. */
export type RunEvent = RunEventBody & {
  readonly runId: string;
  readonly seq: number;
  /** ISO 8601 time the event happened. */
  readonly at: string;
};

/** One entry of the event outbox. */
export interface OutboxEntry {
  /** The outbox's own id (a Redis stream id), for `ack`. */
  readonly id: string;
  readonly event: RunEvent;
}

/**
 * Run events in order, durable across crashes: workers append, the link reads, delivers and
 * acknowledges. An entry stays until acknowledged, so a link that dies mid-delivery delivers it
 * again (the control plane dedupes by runId + seq).
 */
export interface EventOutbox {
  append(runId: string, event: RunEventBody): Promise<void>;
  /** Waits up to `blockMs` for entries after the last read; returns them oldest first. */
  read(options: {
    readonly signal: AbortSignal;
    readonly max: number;
    readonly blockMs: number;
  }): Promise<OutboxEntry[]>;
  ack(ids: readonly string[]): Promise<void>;
  /** Entries not yet acknowledged (for /status and heartbeats). */
  pending(): Promise<number>;
}

/** A recurring run (from a `schedule` instruction or a config job); its schema is in spec.ts. */
export type { ScheduleSpec };

/** What accepted instructions turn into. Every method is idempotent. */
export interface InstructionTarget {
  /** Adds the run (job id = run id); an existing id is a no-op that returns 'duplicate'. */
  enqueueRun(spec: RunSpec): Promise<'queued' | 'duplicate'>;
  /** Cancels a waiting or running run; a running one is aborted through its AbortSignal. */
  cancelRun(runId: string): Promise<'cancelled' | 'unknown'>;
  upsertSchedule(schedule: ScheduleSpec): Promise<void>;
  removeSchedule(scheduleId: string): Promise<'removed' | 'unknown'>;
}
