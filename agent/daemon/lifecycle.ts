import type { Logger as PinoLogger } from 'pino';
import { PerimeterError, coerceError, systemClock, waitAtMost } from '../plugin-api/index.ts';
import type { Clock } from '../plugin-api/index.ts';

/**
 * The daemon's state. `/readyz` answers 200 only in `running`.
 * - `starting`: building its parts; the health server already answers.
 * - `running`: taking work.
 * - `draining`: a stop was asked for; no new work, active runs get the grace period.
 * - `stopped`: every part closed cleanly. `failed`: start failed, or a part failed to close.
 */
export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** A close hook that failed or ran out of time. */
export interface HookFailure {
  readonly name: string;
  readonly error: Error;
}

interface Hook {
  readonly name: string;
  readonly close: () => Promise<void>;
  readonly timeoutMs: number;
}

/** Default bound of one close hook. */
const DEFAULT_HOOK_TIMEOUT_MS = 5_000;

/**
 * The state and the close hooks of the daemon. Each part registers its hook as it is built;
 * `close()` runs them in reverse order of creation, each bounded in time, all of them even when
 * some fail, and returns the failures (Backstage's shutdown hooks, graphile's release).
 */
export class Lifecycle {
  #state: LifecycleState = 'starting';
  readonly #hooks: Hook[] = [];
  readonly #logger: PinoLogger;
  readonly #clock: Clock;
  #closing: Promise<HookFailure[]> | undefined;

  /** `clock` times the bound of each hook. */
  constructor(logger: PinoLogger, options: { readonly clock?: Clock } = {}) {
    this.#logger = logger;
    this.#clock = options.clock ?? systemClock;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Registers a close hook; after close began it is a programming error. */
  onClose(name: string, close: () => Promise<void>, options: { timeoutMs?: number } = {}): void {
    if (this.#closing !== undefined) {
      throw new PerimeterError('INTERNAL', `Close hook "${name}" added after shutdown began`);
    }
    this.#hooks.push({ name, close, timeoutMs: options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS });
  }

  /** Marks the daemon as taking work (from `starting` only). */
  markRunning(): void {
    if (this.#state === 'starting') {
      this.#state = 'running';
      this.#logger.info({ state: this.#state }, 'Agent running');
    }
  }

  /** Readiness goes 503 at once; returns false when draining had already begun. */
  beginDrain(): boolean {
    if (this.#state === 'draining' || this.#state === 'stopped' || this.#state === 'failed') {
      return false;
    }
    this.#state = 'draining';
    this.#logger.info({ state: this.#state }, 'Agent draining');
    return true;
  }

  /** Runs every close hook, newest first; resolves with the failures. Idempotent. */
  close(): Promise<HookFailure[]> {
    this.#closing ??= this.#runHooks();
    return this.#closing;
  }

  /** Marks the end state after a start failure or a deadline. */
  markFailed(): void {
    this.#state = 'failed';
  }

  async #runHooks(): Promise<HookFailure[]> {
    this.beginDrain();
    const failures: HookFailure[] = [];
    for (const hook of [...this.#hooks].reverse()) {
      const startedAt = performance.now();
      try {
        const closed = await waitAtMost(hook.close(), hook.timeoutMs, { clock: this.#clock });
        if (closed.timedOut) {
          throw new PerimeterError(
            'INTERNAL',
            `${hook.name} did not finish within ${hook.timeoutMs} ms`,
            { context: { timeoutMs: hook.timeoutMs } },
          );
        }
        this.#logger.debug(
          { hook: hook.name, durationMs: Math.round(performance.now() - startedAt) },
          'Closed',
        );
      } catch (error) {
        const failure = { name: hook.name, error: coerceError(error) };
        failures.push(failure);
        this.#logger.error({ hook: hook.name, err: failure.error }, 'Close hook failed');
      }
    }
    this.#state = failures.length === 0 ? 'stopped' : 'failed';
    return failures;
  }
}

export { fatalStop } from './fatal.ts';

/** Reads a stop reason: a signal (RUN_ABORTED from main.ts) or a fatal error. */
export function describeStop(reason: unknown): {
  readonly fatal: boolean;
  readonly error: PerimeterError;
} {
  if (reason instanceof PerimeterError) {
    return { fatal: reason.context['fatal'] === true, error: reason };
  }
  return { fatal: false, error: new PerimeterError('RUN_ABORTED', 'Stopped', { cause: reason }) };
}
