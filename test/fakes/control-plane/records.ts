/** One request as it reached the fake, for canary scans and OpenAPI checks. */
export interface RecordedRequest {
  readonly method: string;
  /** Path with its query string. */
  readonly path: string;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** `Date.now()` when the request arrived. */
  readonly atMs: number;
  /** The status answered. */
  status: number;
}

/** An acknowledgement as received. */
export interface RecordedAck {
  readonly instructionId: string;
  readonly accepted: boolean;
  readonly code: string | undefined;
  readonly message: string | undefined;
}

/** A run event as received (the agent's RunEvent, loosely typed). */
export interface ReceivedEvent {
  readonly runId: string;
  readonly seq: number;
  readonly type: string;
  readonly [key: string]: unknown;
}

/** What the fake collected: acks, events (deduplicated by runId + seq) and heartbeats. */
export class Records {
  readonly requests: RecordedRequest[] = [];
  readonly acks: RecordedAck[] = [];
  readonly heartbeats: Record<string, unknown>[] = [];
  readonly #events = new Map<string, ReceivedEvent[]>();
  readonly #seen = new Set<string>();
  /** Events received again (same runId and seq) and dropped. */
  duplicateEvents = 0;

  /** Records an ack body; returns a problem when it is not `{accepted, error?}`. */
  ack(instructionId: string, body: unknown): string | undefined {
    const ack = body as {
      accepted?: unknown;
      error?: { code?: unknown; message?: unknown };
    } | null;
    if (typeof ack?.accepted !== 'boolean') {
      return 'accepted must be a boolean';
    }
    const code = ack.error?.code;
    const message = ack.error?.message;
    this.acks.push({
      instructionId,
      accepted: ack.accepted,
      code: typeof code === 'string' ? code : undefined,
      message: typeof message === 'string' ? message : undefined,
    });
    return undefined;
  }

  /** Stores a run's events in arrival order, dropping any runId + seq seen before. */
  events(runId: string, body: unknown): { stored: number; duplicates: number } | string {
    const events = (body as { events?: unknown } | null)?.events;
    if (!Array.isArray(events)) {
      return 'events must be an array';
    }
    let stored = 0;
    let duplicates = 0;
    for (const event of events as ReceivedEvent[]) {
      if (event.runId !== runId || typeof event.seq !== 'number') {
        return 'every event needs the runId of the path and a seq';
      }
      const key = `${runId}:${event.seq}`;
      if (this.#seen.has(key)) {
        duplicates += 1;
        continue;
      }
      this.#seen.add(key);
      const list = this.#events.get(runId) ?? [];
      list.push(event);
      this.#events.set(runId, list);
      stored += 1;
    }
    this.duplicateEvents += duplicates;
    return { stored, duplicates };
  }

  /** The events of a run, in the order they first arrived. */
  runEvents(runId: string): ReceivedEvent[] {
    return [...(this.#events.get(runId) ?? [])];
  }

  /** Run ids that sent events. */
  runIds(): string[] {
    return [...this.#events.keys()];
  }

  /** The acks of one instruction, in arrival order. */
  acksOf(instructionId: string): RecordedAck[] {
    return this.acks.filter((ack) => ack.instructionId === instructionId);
  }
}
