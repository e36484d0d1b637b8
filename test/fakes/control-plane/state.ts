import { randomBytes } from 'node:crypto';
import { FaultPlan } from './faults.ts';
import { InstructionQueue } from './queue.ts';
import { Records } from './records.ts';

/** Everything the fake knows: token, queues per agent, faults, what it received. */
export class ControlPlaneState {
  token: string;
  heartbeatReply: Record<string, unknown> = {};
  readonly records = new Records();
  readonly faults = new FaultPlan();
  readonly maxPerPoll: number;
  readonly #leaseMs: number;
  readonly #queues = new Map<string, InstructionQueue>();
  readonly #wakers = new Set<() => void>();

  constructor(options: {
    readonly token?: string;
    readonly leaseMs?: number;
    readonly maxPerPoll?: number;
  }) {
    this.token = options.token ?? `cp-token-${randomBytes(8).toString('hex')}`;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.maxPerPoll = options.maxPerPoll ?? 100;
  }

  /** The instruction queue of an agent (created on first use). */
  queueOf(agentId: string): InstructionQueue {
    let queue = this.#queues.get(agentId);
    if (queue === undefined) {
      queue = new InstructionQueue(this.#leaseMs);
      this.#queues.set(agentId, queue);
    }
    return queue;
  }

  queues(): InstructionQueue[] {
    return [...this.#queues.values()];
  }

  /** Wakes every held long-poll so it looks at its queue again. */
  wake(): void {
    for (const waker of this.#wakers) {
      waker();
    }
  }

  /** Waits until woken or `ms` passes. */
  sleepUntilWoken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }
}
