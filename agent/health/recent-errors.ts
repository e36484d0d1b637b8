/** One failed run attempt as /status lists it: the code and when, never the message. */
export interface RecentError {
  readonly code: string;
  readonly runId: string;
  /** ISO time. */
  readonly at: string;
}

/** The last N run errors, newest first. */
export class RecentErrors {
  readonly #kept: number;
  readonly #errors: RecentError[] = [];

  constructor(kept: number) {
    this.#kept = kept;
  }

  add(code: string, runId: string, at = new Date()): void {
    if (this.#kept === 0) {
      return;
    }
    this.#errors.unshift({ code, runId, at: at.toISOString() });
    this.#errors.length = Math.min(this.#errors.length, this.#kept);
  }

  list(): RecentError[] {
    return [...this.#errors];
  }
}
