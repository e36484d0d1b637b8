import { PerimeterError, isAbortError, isPerimeterError, waitAtMost } from '../plugin-api/index.ts';

/** The PerimeterError an aborted signal stands for (RUN_ABORTED unless its reason says more). */
export function abortReason(signal: AbortSignal): PerimeterError {
  const reason: unknown = signal.reason;
  return isPerimeterError(reason)
    ? reason
    : new PerimeterError('RUN_ABORTED', 'The run was stopped before it finished', {
        cause: reason,
      });
}

/**
 * Maps what a run threw to the error it reports: once the run's signal fired, the signal's
 * reason wins over whatever the interrupted call threw (an AbortError, a reset socket).
 */
export function runError(error: unknown, signal: AbortSignal): PerimeterError {
  if (signal.aborted) {
    return abortReason(signal);
  }
  if (isPerimeterError(error)) {
    return error;
  }
  if (isAbortError(error)) {
    return new PerimeterError('RUN_ABORTED', 'The run was stopped before it finished', {
      cause: error,
    });
  }
  return new PerimeterError('INTERNAL', 'Unexpected error during the run', { cause: error });
}

/** How long giving up waits for the producer's `return()` (its `finally` blocks). */
const RETURN_WAIT_MS = 1000;

/**
 * Iterates an async iterable but gives up as soon as `signal` aborts, even if the producer is
 * stuck in a wait that ignores the signal; the producer's `return()` is then called (not awaited
 * past a short bound) so its `finally` blocks run.
 *
 * One abort listener serves the whole iteration and rejects whichever step is pending: a step
 * costs one promise, with no listener added and removed per step and no `Promise.race`, which
 * matters on streams of millions of events. The listener goes when the iteration ends.
 */
export function iterateUntilAborted<T>(
  iterable: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncIterableIterator<T> {
  return new AbortableIterator(iterable[Symbol.asyncIterator](), signal);
}

class AbortableIterator<T> implements AsyncIterableIterator<T> {
  readonly #source: AsyncIterator<T>;
  readonly #signal: AbortSignal;
  /** Rejects the step being awaited, if any. */
  #rejectStep: ((error: unknown) => void) | undefined;
  #ended = false;
  #listening = false;

  constructor(source: AsyncIterator<T>, signal: AbortSignal) {
    this.#source = source;
    this.#signal = signal;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#ended) {
      return Promise.resolve({ done: true, value: undefined });
    }
    if (this.#signal.aborted) {
      return this.#giveUp(abortReason(this.#signal));
    }
    if (!this.#listening) {
      this.#listening = true;
      this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#rejectStep = reject;
      // Once an abort took the step over (`#rejectStep` cleared), its late outcome is dropped.
      this.#source.next().then(
        (step) => {
          if (this.#rejectStep === reject) {
            this.#rejectStep = undefined;
            if (step.done === true) {
              this.#end();
            }
            resolve(step);
          }
        },
        (error: unknown) => {
          if (this.#rejectStep === reject) {
            this.#rejectStep = undefined;
            this.#end();
            // Passed through as thrown, like `await` would.
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
            reject(this.#signal.aborted ? abortReason(this.#signal) : error);
          }
        },
      );
    });
  }

  /** The consumer stopped early (break, throw): the producer's `finally` blocks run. */
  async return(): Promise<IteratorResult<T>> {
    await this.#closeSource();
    return { done: true, value: undefined };
  }

  readonly #onAbort = (): void => {
    const reject = this.#rejectStep;
    this.#rejectStep = undefined;
    if (reject !== undefined) {
      this.#giveUp(abortReason(this.#signal)).catch(reject);
    }
  };

  async #giveUp(reason: PerimeterError): Promise<never> {
    await this.#closeSource();
    throw reason;
  }

  async #closeSource(): Promise<void> {
    if (this.#ended) {
      return;
    }
    this.#end();
    const closing = this.#source.return?.();
    if (closing !== undefined) {
      await waitAtMost(closing, RETURN_WAIT_MS).catch(() => undefined);
    }
  }

  #end(): void {
    this.#ended = true;
    if (this.#listening) {
      this.#listening = false;
      this.#signal.removeEventListener('abort', this.#onAbort);
    }
  }
}
