/** One issued item and its delivery state. */
interface Delivery {
  readonly item: unknown;
  /** The item's `id` when it is a string: only such items can be acknowledged and leased. */
  readonly id: string | undefined;
  leaseUntilMs: number;
  deliveries: number;
}

/**
 * Instructions waiting for one agent, with leases: a delivered instruction stays queued until it
 * is acknowledged; when its lease ends unacknowledged it is delivered again. Items without a
 * string id cannot be acknowledged, so they are delivered once and dropped.
 */
export class InstructionQueue {
  readonly #items: Delivery[] = [];
  readonly #leaseMs: number;
  readonly #now: () => number;
  /** Deliveries per instruction id, acknowledged or not. */
  readonly deliveryCounts = new Map<string, number>();

  constructor(leaseMs: number, now: () => number = Date.now) {
    this.#leaseMs = leaseMs;
    this.#now = now;
  }

  push(items: readonly unknown[]): void {
    for (const item of items) {
      const id = (item as { id?: unknown } | null)?.id;
      this.#items.push({
        item,
        id: typeof id === 'string' ? id : undefined,
        leaseUntilMs: 0,
        deliveries: 0,
      });
    }
  }

  /** Takes what may be delivered now (at most `max`), leasing what can be acknowledged. */
  take(max: number): unknown[] {
    const nowMs = this.#now();
    const ready = this.#items.filter((delivery) => delivery.leaseUntilMs <= nowMs).slice(0, max);
    for (const delivery of ready) {
      delivery.deliveries += 1;
      delivery.leaseUntilMs = nowMs + this.#leaseMs;
      if (delivery.id !== undefined) {
        this.deliveryCounts.set(delivery.id, (this.deliveryCounts.get(delivery.id) ?? 0) + 1);
      } else {
        this.#items.splice(this.#items.indexOf(delivery), 1);
      }
    }
    return ready.map((delivery) => delivery.item);
  }

  /** Ends the lease of every queued item with this id; true when there was one. */
  acknowledge(id: string): boolean {
    let found = false;
    for (let index = this.#items.length - 1; index >= 0; index -= 1) {
      if (this.#items[index]?.id === id) {
        this.#items.splice(index, 1);
        found = true;
      }
    }
    return found;
  }

  /** Milliseconds until the next lease ends, or undefined when nothing is leased. */
  nextLeaseEndMs(): number | undefined {
    const nowMs = this.#now();
    const ends = this.#items.map((delivery) => delivery.leaseUntilMs).filter((end) => end > nowMs);
    return ends.length === 0 ? undefined : Math.min(...ends) - nowMs;
  }

  /** Items not yet acknowledged (leased or not). */
  get size(): number {
    return this.#items.length;
  }
}
