import { createHttpClient } from '../../agent/http/client.ts';
import { HttpSettingsSchema } from '../../agent/http/settings.ts';
import type { ClosableHttpClient } from '../../agent/http/types.ts';
import { SecretValue, systemClock } from '../../agent/plugin-api/index.ts';
import type {
  Asset,
  Clock,
  Connector,
  ConnectorEvent,
  JsonValue,
  Logger,
} from '../../agent/plugin-api/index.ts';
import type { CapturedLogs } from './capture-logs.ts';

/**
 * The pieces every connector's test harness shares: the real HTTP client bound to the
 * connector's declared calls, credentials wrapped as the resolver would, the connector's logger,
 * a clock tests move by hand, and a reader that keeps everything a `read()` yielded.
 */

/** The agent's HTTP client for a simulator, with short retry waits. */
export function sourceHttpClient(options: {
  readonly connector: Connector;
  readonly hosts: readonly string[];
  readonly logs: CapturedLogs;
  /** Attempts per request. @default 3 */
  readonly attempts?: number;
  /** Ceiling of the first retry wait, in ms. @default 5 */
  readonly baseDelayMs?: number;
  /** Times the waits between retries (test/helpers/test-clock.ts has clocks that record them). */
  readonly clock?: Clock;
}): ClosableHttpClient {
  const { connector, logs } = options;
  const baseDelayMs = options.baseDelayMs ?? 5;
  return createHttpClient({
    policy: {
      allowedHosts: options.hosts,
      allowedCalls: connector.authCalls,
      allowedReads: connector.readPaths,
    },
    settings: HttpSettingsSchema.parse({
      retry: {
        maxAttempts: options.attempts ?? 3,
        baseDelayMs,
        maxDelayMs: baseDelayMs * 4,
        maxRetryAfterMs: 5_000,
      },
    }),
    redactor: logs.redactor,
    logger: logs.logger,
    errorDomain: 'source',
    userAgent: 'perimeter/test',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

/** Plain credentials as SecretValues, each registered with the redactor as the resolver does. */
export function wrapCredentials(
  plain: Readonly<Record<string, string>>,
  logs: CapturedLogs,
): Record<string, SecretValue> {
  return Object.fromEntries(
    Object.entries(plain).map(([name, value]) => {
      logs.redactor.add(value);
      return [name, new SecretValue(value)];
    }),
  );
}

/** The logger the runtime hands a connector for run `runId`. */
export function connectorLogger(logs: CapturedLogs, connector: string, runId = 'run-1'): Logger {
  return logs.logger.child({ component: 'connector', connector, runId });
}

/** What a read yielded: every event, and the assets and checkpoints among them, in order. */
export interface ReadResult {
  readonly events: ConnectorEvent[];
  readonly assets: Asset[];
  readonly checkpoints: JsonValue[];
}

/** Reads `events` to the end and keeps everything (for small tenants only). */
export async function collectEvents(events: AsyncIterable<ConnectorEvent>): Promise<ReadResult> {
  const all: ConnectorEvent[] = [];
  for await (const event of events) {
    all.push(event);
  }
  return {
    events: all,
    assets: all.flatMap((e) => (e.type === 'asset' ? [e.asset] : [])),
    checkpoints: all.flatMap((e) => (e.type === 'checkpoint' ? [e.cursor] : [])),
  };
}

/** Counts assets by type name. */
export function countByType(assets: readonly Asset[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const asset of assets) {
    counts[asset.typeName] = (counts[asset.typeName] ?? 0) + 1;
  }
  return counts;
}

/** Real time plus what a test added by hand (to age tokens); timers still run in real time. */
export class ManualClock implements Clock {
  #offsetMs = 0;
  readonly #due = new Set<{ readonly atMs: number; readonly fire: () => void }>();

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** A wait ends after `delayMs` of real time, or as soon as `advance` moves past it. */
  schedule(callback: () => void, delayMs: number): () => void {
    const entry = {
      atMs: this.now() + delayMs,
      fire: () => {
        cancel();
        callback();
      },
    };
    const cancelTimer = systemClock.schedule(entry.fire, delayMs);
    const cancel = (): void => {
      this.#due.delete(entry);
      cancelTimer();
    };
    this.#due.add(entry);
    return cancel;
  }

  advance(ms: number): void {
    this.#offsetMs += ms;
    const now = this.now();
    for (const entry of [...this.#due]) {
      if (entry.atMs <= now) entry.fire();
    }
  }
}
