/** The calls of protocol v1, as the fake names them. */
export type CallName = 'agent' | 'poll' | 'ack' | 'heartbeat' | 'events';

/**
 * An answer the fake gives instead of (or before) the real one, until it runs out:
 * - `status`: that status with a JSON error (`Retry-After` when given), e.g. 503, 401, 429;
 * - `slow`: waits `delayMs`, then answers normally (a call the agent gives up on meanwhile is
 *   neither handled nor answered);
 * - `drop-after-store`: handles the call (an event is stored, an ack recorded), then destroys the
 *   socket instead of answering: the agent never hears so and must send it again.
 * `forMs` bounds it in time, `count` in calls, `calls` to some calls (all by default).
 */
export type ControlPlaneFault = (
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'drop-after-store' }
) & {
  readonly forMs?: number;
  readonly count?: number;
  readonly calls?: readonly CallName[];
};

interface ActiveFault {
  readonly fault: ControlPlaneFault;
  readonly untilMs: number;
  remaining: number;
}

/** The faults in force, first added first applied. */
export class FaultPlan {
  readonly #active: ActiveFault[] = [];
  /** How many calls each fault kind answered, e.g. `status503`, `slow`. */
  readonly injected = new Map<string, number>();

  add(fault: ControlPlaneFault): void {
    this.#active.push({
      fault,
      untilMs: fault.forMs === undefined ? Infinity : Date.now() + fault.forMs,
      remaining: fault.count ?? Infinity,
    });
  }

  clear(): void {
    this.#active.length = 0;
  }

  /** The fault that applies to this call now, if any (and counts it). */
  next(call: CallName): ControlPlaneFault | undefined {
    const nowMs = Date.now();
    for (let index = this.#active.length - 1; index >= 0; index -= 1) {
      const active = this.#active[index];
      if (active !== undefined && (active.untilMs <= nowMs || active.remaining <= 0)) {
        this.#active.splice(index, 1);
      }
    }
    const found = this.#active.find((active) => active.fault.calls?.includes(call) ?? true);
    if (found === undefined) {
      return undefined;
    }
    found.remaining -= 1;
    const label = found.fault.kind === 'status' ? `status${found.fault.status}` : found.fault.kind;
    this.injected.set(label, (this.injected.get(label) ?? 0) + 1);
    return found.fault;
  }
}
