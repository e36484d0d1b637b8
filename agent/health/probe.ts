import { sleep, toPerimeterError } from '../plugin-api/index.ts';

/** The last known state of one dependency. */
export interface DependencyState {
  readonly ok: boolean;
  /** `ok`, a connection status, or the error code that made the check fail. Never a message. */
  readonly detail: string;
  /** ISO time of the check; undefined for in-memory checks. */
  readonly checkedAt?: string;
  /**
   * The setting to fix when the dependency refused the agent's credentials (e.g. `catalog.token`):
   * such a failure makes the agent not ready, unlike an outage it rides out.
   */
  readonly refusedSetting?: string;
}

/** The setting a refusal names (error context `refused: true` and `setting`), if it is one. */
function refusedSettingOf(error: unknown): string | undefined {
  const { context } = toPerimeterError(error);
  const setting = context['setting'];
  return context['refused'] === true && typeof setting === 'string' ? setting : undefined;
}

/**
 * A probe run in the background every `intervalMs`, whose last result requests read: /readyz
 * must stay cheap under load (a live check per request turns load into readiness failures).
 */
export class CachedProbe {
  readonly name: string;
  #state: DependencyState = { ok: false, detail: 'not_checked' };
  readonly #probe: (signal: AbortSignal) => Promise<void>;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;

  constructor(
    name: string,
    probe: (signal: AbortSignal) => Promise<void>,
    options: { intervalMs: number; timeoutMs?: number },
  ) {
    this.name = name;
    this.#probe = probe;
    this.#intervalMs = options.intervalMs;
    this.#timeoutMs = options.timeoutMs ?? Math.min(options.intervalMs, 10_000);
  }

  /** The last result. */
  get state(): DependencyState {
    return this.#state;
  }

  /** Probes once now, then every interval until `signal` aborts. Never throws. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.check(signal);
      await sleep(this.#intervalMs, { signal }).catch(() => undefined);
    }
  }

  /** Probes once, bounded by the timeout. */
  async check(signal: AbortSignal): Promise<DependencyState> {
    try {
      await this.#probe(AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]));
      this.#state = { ok: true, detail: 'ok', checkedAt: new Date().toISOString() };
    } catch (error) {
      if (!signal.aborted) {
        const refusedSetting = refusedSettingOf(error);
        this.#state = {
          ok: false,
          detail: toPerimeterError(error).code,
          checkedAt: new Date().toISOString(),
          ...(refusedSetting === undefined ? {} : { refusedSetting }),
        };
      }
    }
    return this.#state;
  }
}
