import type { Operation } from '../run/types.ts';

/** A run executing in this process, as /status shows it. */
export interface ActiveRun {
  readonly runId: string;
  /** The BullMQ job id (differs from the run id for schedule ticks). */
  readonly jobId: string;
  readonly connector: string;
  readonly operation: Operation;
  readonly attempt: number;
  /** Epoch ms. */
  readonly startedAt: number;
}

/** The runs executing in this process, by run id. */
export class ActiveRuns {
  readonly #runs = new Map<string, ActiveRun>();

  add(run: ActiveRun): void {
    this.#runs.set(run.runId, run);
  }

  delete(runId: string): void {
    this.#runs.delete(runId);
  }

  get(runId: string): ActiveRun | undefined {
    return this.#runs.get(runId);
  }

  get size(): number {
    return this.#runs.size;
  }

  list(): ActiveRun[] {
    return [...this.#runs.values()];
  }
}
