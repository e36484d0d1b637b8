import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A fake's fault switches: fail the next N calls, fail every call until restored, delay every
 * call. `F` names the failures the fake knows how to answer (throttling, 5xx, a reset socket).
 */
export class FaultSwitch<F extends string> {
  readonly #defaultFault: F;
  #next: { count: number; fault: F };
  #all: F | undefined;
  #delayMs = 0;

  constructor(defaultFault: F) {
    this.#defaultFault = defaultFault;
    this.#next = { count: 0, fault: defaultFault };
  }

  /** The next `count` calls answer `fault`, then the fake recovers. */
  failNext(count: number, fault: F = this.#defaultFault): void {
    this.#next = { count, fault };
  }

  /** Every call answers `fault` until {@link restore}. */
  failAll(fault: F = this.#defaultFault): void {
    this.#all = fault;
  }

  /** Clears every fault and the delay. */
  restore(): void {
    this.#all = undefined;
    this.#next = { count: 0, fault: this.#defaultFault };
    this.#delayMs = 0;
  }

  /** Delays every call by `ms` before it is answered. */
  delay(ms: number): void {
    this.#delayMs = ms;
  }

  /** The fault the current call must answer, if any (consumes one of `failNext`). */
  take(): F | undefined {
    if (this.#all !== undefined) {
      return this.#all;
    }
    if (this.#next.count > 0) {
      this.#next.count -= 1;
      return this.#next.fault;
    }
    return undefined;
  }

  /** Waits out the configured delay. */
  async wait(): Promise<void> {
    if (this.#delayMs > 0) {
      await sleep(this.#delayMs);
    }
  }
}
