import { ERROR_CODES, PerimeterError, toPerimeterError } from '../../plugin-api/index.ts';
import type { ErrorCode, ErrorContext, JsonValue, RateLimit } from '../../plugin-api/index.ts';
import type { DestinationPolicy } from '../../http/types.ts';
import type { HttpSettings } from '../../http/settings.ts';
import type { WireChunk } from './chunks.ts';

/**
 * The messages between the agent's core and a run thread. One run at a time per thread; every
 * message of a run carries nothing the core would not log itself, except `start.credentials`,
 * which only ever travels from the core to the thread that runs the connector.
 */

/** What a thread is created with (its `workerData`). */
export interface ThreadData {
  /** URL of a module whose `connectors` export lists the agent's connectors. */
  readonly connectorsModule: string;
  readonly http: HttpSettings;
  readonly extraCaPem: string | undefined;
  readonly nodeExtraCaCerts: string | undefined;
  readonly userAgent: string;
}

/** The operation a thread runs, with what the connector needs for it. */
export interface StartRun {
  readonly runId: string;
  readonly connector: string;
  readonly operation: 'check' | 'discover' | 'extract';
  /** The connection's settings, credential fields still as references (replaced in the thread). */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Resolved credentials by field name, as bytes; zero-filled by both sides after use. */
  readonly credentials: Readonly<Record<string, Uint8Array>>;
  readonly params: unknown;
  readonly cursor: JsonValue | undefined;
  readonly policy: DestinationPolicy;
  readonly rateLimit: RateLimit | undefined;
  readonly logLevel: string;
  /** The bindings of the run's connector logger, so its lines read as in-process ones. */
  readonly logBindings: Readonly<Record<string, unknown>>;
}

/** An error as it crosses the boundary: a PerimeterError's stable parts, never a cause. */
export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly context: ErrorContext;
  readonly retryAfterMs?: number;
}

/** Core → thread. */
export type ToThread =
  | { readonly type: 'start'; readonly run: StartRun }
  /**
   * The core consumed a chunk of events: the thread may send one more. `buffers`: the lines'
   * memory of earlier chunks, read by now, for the thread to fill again (transferred).
   */
  | { readonly type: 'pull'; readonly buffers?: readonly ArrayBuffer[] }
  | { readonly type: 'abort'; readonly reason: WireError }
  | {
      readonly type: 'budgetReply';
      readonly id: number;
      readonly waitMs?: number;
      readonly requestsPerSecond?: number;
      readonly error?: WireError;
    };

/** Thread → core. */
export type FromThread =
  /**
   * Events of `read` (any kind, forwarded as they are) or resources of `discover`, in order, as
   * one {@link WireChunk} whose lines are transferred, not copied (docs/performance.md, run
   * isolation).
   */
  | { readonly type: 'events'; readonly chunk: WireChunk }
  /** The operation ended: `read`'s return value, `check`'s report, nothing for `discover`. */
  | { readonly type: 'done'; readonly value: unknown; readonly heapUsedMb: number }
  | { readonly type: 'failed'; readonly error: WireError; readonly heapUsedMb: number }
  /** A finished log line, already redacted by the thread's redactor. */
  | { readonly type: 'log'; readonly line: string }
  /** A metric update: `metrics[name][op](...args)` in the core's registry. */
  | {
      readonly type: 'metric';
      readonly name: string;
      readonly op: 'inc' | 'dec' | 'set' | 'observe';
      readonly args: readonly unknown[];
    }
  | {
      readonly type: 'budget';
      readonly id: number;
      readonly op: 'reserve' | 'rereserve' | 'shrink';
      readonly source: string;
      readonly limit: RateLimit;
      readonly retryAfterMs?: number;
    };

/** The wire form of anything thrown, its message passed through `redact`. */
export function toWire(error: unknown, redact: (text: string) => string = (t) => t): WireError {
  const failure = toPerimeterError(error);
  return {
    code: failure.code,
    message: redact(failure.message),
    retryable: failure.retryable,
    context: failure.context,
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
  };
}

/** The PerimeterError a wire error stands for; an unknown code becomes INTERNAL. */
export function fromWire(wire: WireError): PerimeterError {
  const code: ErrorCode = wire.code in ERROR_CODES ? wire.code : 'INTERNAL';
  return new PerimeterError(code, wire.message, {
    retryable: wire.retryable,
    context: wire.context,
    ...(wire.retryAfterMs === undefined ? {} : { retryAfterMs: wire.retryAfterMs }),
  });
}
