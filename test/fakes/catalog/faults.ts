import { mulberry32 } from '../../helpers/random.ts';
/** Which calls a fault applies to. */
export type FaultTarget = 'batches' | 'complete' | 'any';

/**
 * An answer the receiver gives instead of (or around) the real one:
 * - `status`: answers that status with a JSON error (429 and 503 carry `Retry-After` when given);
 * - `slow`: waits `delayMs`, then handles the request normally;
 * - `drop`: destroys the socket, before storing the batch (the catalog never saw it) or after
 *   storing it (the catalog has it but the agent never hears so, and must retry into a duplicate);
 * - `garbage`: answers 200 with a body that is not the protocol's (`body`, default not JSON),
 *   without storing anything.
 */
export type CatalogFault = (
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'drop'; readonly when?: 'before-store' | 'after-store' }
  | { readonly kind: 'garbage'; readonly body?: string }
) & { readonly target?: FaultTarget };

/** Probabilistic faults on batch calls, from a seeded generator so a failing run replays. */
export interface ChaosOptions {
  readonly seed: number;
  /** Share of batch calls answered 429 (0..1). */
  readonly rate429?: number;
  /** Share answered 503. */
  readonly rate503?: number;
  /** Share whose connection is dropped (half before, half after storing). */
  readonly rateDrop?: number;
  /** `Retry-After` of the 429 and 503 answers. @default 0 */
  readonly retryAfterSeconds?: number;
}

/** The scripted queue and the chaos settings of one receiver. */
export class FaultPlan {
  readonly #script: CatalogFault[] = [];
  #chaos: (ChaosOptions & { readonly random: () => number }) | undefined;
  /** How many faults of each kind were injected, e.g. `status429`, `drop-after-store`. */
  readonly injected = new Map<string, number>();

  /** Queues faults; each applies to the next matching call. */
  script(...faults: CatalogFault[]): void {
    this.#script.push(...faults);
  }

  /** Turns probabilistic faults on (or off with `undefined`). */
  chaos(options: ChaosOptions | undefined): void {
    this.#chaos =
      options === undefined ? undefined : { ...options, random: mulberry32(options.seed) };
  }

  /** Empties the script and turns chaos off. */
  clear(): void {
    this.#script.length = 0;
    this.#chaos = undefined;
  }

  /** The fault for the next call of `call`, if any, counted as injected. */
  next(call: 'batches' | 'complete'): CatalogFault | undefined {
    const index = this.#script.findIndex((fault) => matches(fault.target ?? 'batches', call));
    const fault = index === -1 ? this.#roll(call) : this.#script.splice(index, 1)[0];
    if (fault !== undefined) {
      const label = faultLabel(fault);
      this.injected.set(label, (this.injected.get(label) ?? 0) + 1);
    }
    return fault;
  }

  #roll(call: 'batches' | 'complete'): CatalogFault | undefined {
    const chaos = this.#chaos;
    if (chaos === undefined || call !== 'batches') {
      return undefined;
    }
    const draw = chaos.random();
    const rate429 = chaos.rate429 ?? 0;
    const rate503 = chaos.rate503 ?? 0;
    const rateDrop = chaos.rateDrop ?? 0;
    const retryAfterSeconds = chaos.retryAfterSeconds ?? 0;
    if (draw < rate429) {
      return { kind: 'status', status: 429, retryAfterSeconds };
    }
    if (draw < rate429 + rate503) {
      return { kind: 'status', status: 503, retryAfterSeconds };
    }
    if (draw < rate429 + rate503 + rateDrop) {
      return { kind: 'drop', when: chaos.random() < 0.5 ? 'before-store' : 'after-store' };
    }
    return undefined;
  }
}

/** A short name of a fault, for counts and test messages. */
export function faultLabel(fault: CatalogFault): string {
  switch (fault.kind) {
    case 'status':
      return `status${fault.status}`;
    case 'slow':
      return 'slow';
    case 'drop':
      return `drop-${fault.when ?? 'before-store'}`;
    case 'garbage':
      return 'garbage';
  }
}

function matches(target: FaultTarget, call: 'batches' | 'complete'): boolean {
  return target === 'any' || target === call;
}
