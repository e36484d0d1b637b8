import { raceAbort } from '../plugin-api/index.ts';

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  waiters: number;
  /** Nobody waits for a background flight; it runs to its end unless everything is aborted. */
  background: boolean;
}

/**
 * Concurrent requests for one key share one operation. Each caller's signal detaches only that
 * caller; the operation itself is aborted once no caller waits for it any more.
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  /**
   * Joins the flight of `key`, starting it with `start` when there is none. Without a signal the
   * caller is a background job: the flight is never aborted on its behalf and nobody awaits it.
   */
  run(key: string, start: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const flight = this.#flights.get(key) ?? this.#start(key, start);
    if (signal === undefined) {
      flight.background = true;
      return flight.promise;
    }
    flight.waiters += 1;
    return raceAbort(flight.promise, signal).finally(() => {
      flight.waiters -= 1;
      if (signal.aborted && flight.waiters === 0 && !flight.background) {
        flight.controller.abort(signal.reason);
      }
    });
  }

  /** Aborts every flight (shutdown). */
  abortAll(reason: unknown): void {
    for (const flight of this.#flights.values()) {
      flight.controller.abort(reason);
    }
  }

  #start(key: string, start: (signal: AbortSignal) => Promise<T>): Flight<T> {
    const controller = new AbortController();
    const promise = Promise.resolve()
      .then(() => start(controller.signal))
      .finally(() => {
        if (this.#flights.get(key) === flight) {
          this.#flights.delete(key);
        }
      });
    // Every waiter may have left; the rejection must not surface as unhandled.
    promise.catch(() => undefined);
    const flight: Flight<T> = { promise, controller, waiters: 0, background: false };
    this.#flights.set(key, flight);
    return flight;
  }
}
