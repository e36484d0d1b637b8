/**
 * Perimeter's one error class and its table of stable codes.
 *
 * Every failure an operator can meet has a code here. `retryable` tells the queue boundary what
 * to do; `action` is the sentence an operator reads (docs/errors.md lists every code, and a test
 * keeps the two in step). Context holds identifiers, paths, statuses and counts: never bodies,
 * headers, tokens or secret values.
 */

interface ErrorCodeInfo {
  /** Whether the run may be retried with backoff. */
  readonly retryable: boolean;
  /** Exit code of the CLI when a command ends on this error: 2 for bad input, 1 otherwise. */
  readonly exitCode: 1 | 2;
  /** What is wrong and what to do, in one or two sentences, for the operator. */
  readonly action: string;
}

export const ERROR_CODES = {
  CONFIG_INVALID: {
    retryable: false,
    exitCode: 2,
    action:
      'The configuration cannot be used. Each listed problem names its key, variable or file, what to do and where it is documented; fix them all and restart.',
  },
  JOB_INVALID: {
    retryable: false,
    exitCode: 2,
    action:
      'The job file or run instruction cannot be run. Each listed problem names its key, what to do and where it is documented (docs/job-file.md, the connector README for params).',
  },
  CONNECTOR_UNKNOWN: {
    retryable: false,
    exitCode: 2,
    action:
      'No connector of that name is registered. Use one of the names `perimeter --help` lists.',
  },
  CONNECTION_UNKNOWN: {
    retryable: false,
    exitCode: 2,
    action:
      'The run names a connection id that is not defined locally. Add it under `connections` or fix the id.',
  },
  POLICY_DENIED: {
    retryable: false,
    exitCode: 1,
    action:
      'The destination policy refused a request before it was sent (a host that is not one of the declared endpoints of the connection, an endpoint outside the hosts its connector may reach, or a method the connector did not declare). Add the host to `policy.connectors.<name>.allowHosts` only if you trust it.',
  },
  SECRET_INVALID_REF: {
    retryable: false,
    exitCode: 2,
    action:
      'A secret reference does not parse or names an unknown store or profile. Write it as scheme://locator[?params][#selector] (docs/secrets.md).',
  },
  SECRET_REF_DENIED: {
    retryable: false,
    exitCode: 2,
    action:
      "The reference is outside its store profile's allowlist (or the connector's inline allowlist). Widen `secretStores.<profile>.allow` if it should be readable.",
  },
  SECRET_NOT_FOUND: {
    retryable: false,
    exitCode: 1,
    action:
      'The reference names nothing the store holds (for env://, the variable is unset or empty). Create the secret or correct the reference; the message says what the store looked for.',
  },
  SECRET_ACCESS_DENIED: {
    retryable: false,
    exitCode: 1,
    action:
      "The store refused Perimeter's identity. Grant its workload identity read access to this secret.",
  },
  SECRET_UNAVAILABLE: {
    retryable: true,
    exitCode: 1,
    action:
      'The secret store could not be reached or throttled the call. Perimeter retries; check the network path if it persists.',
  },
  SECRET_SELECTOR_INVALID: {
    retryable: false,
    exitCode: 1,
    action:
      'The #selector does not match the secret: the value is not JSON or has no such key. Fix the selector or the secret.',
  },
  SECRET_DECODE_INVALID: {
    retryable: false,
    exitCode: 1,
    action:
      'The reference asks for decode=base64 or base64url but the secret is not valid in that encoding. Fix the decode param or the secret.',
  },
  SECRET_TOO_LARGE: {
    retryable: false,
    exitCode: 1,
    action:
      'The secret exceeds the size cap of its store (1 MiB for file://). Reference a file or secret that holds only the credential.',
  },
  SOURCE_AUTH_FAILED: {
    retryable: false,
    exitCode: 1,
    action:
      'The source rejected the credentials (401). Check that the referenced secret holds a current credential.',
  },
  SOURCE_ACCESS_DENIED: {
    retryable: false,
    exitCode: 1,
    action:
      "The source refused access (403). Give the credential's account the read-only role the connector's README names.",
  },
  SOURCE_RATE_LIMITED: {
    retryable: true,
    exitCode: 1,
    action:
      'The source asked Perimeter to slow down (429). The run retries after the advertised delay.',
  },
  SOURCE_UNAVAILABLE: {
    retryable: true,
    exitCode: 1,
    action:
      'The source could not be reached, timed out or answered 5xx. The run retries; check DNS, proxy and firewall if it persists.',
  },
  SOURCE_REQUEST_FAILED: {
    retryable: false,
    exitCode: 1,
    action:
      'The source refused a request (4xx). Check the connection settings and params, e.g. a selected id that no longer exists.',
  },
  SOURCE_RESPONSE_INVALID: {
    retryable: false,
    exitCode: 1,
    action:
      'The source answered with an unexpected shape. The error names the endpoint; report it with the connector version.',
  },
  SOURCE_RESPONSE_TOO_LARGE: {
    retryable: false,
    exitCode: 1,
    action:
      'A source response exceeded the size cap. Raise `http.maxResponseBytes` if the response is legitimate.',
  },
  TLS_UNTRUSTED: {
    retryable: false,
    exitCode: 1,
    action:
      "A server's TLS certificate was not trusted. A TLS-inspecting proxy is likely in the path: add its CA with `http.caFile` (Helm: a ConfigMap named in `tls.extraCaBundle.configMap`, its PEM under `tls.extraCaBundle.key`).",
  },
  ASSET_INVALID: {
    retryable: false,
    exitCode: 1,
    action:
      'A connector produced an asset that fails docs/schemas/asset.schema.json. This is a connector bug: report it.',
  },
  ASSET_TOO_LARGE: {
    retryable: false,
    exitCode: 1,
    action:
      'One asset is larger as NDJSON than `catalog.batchMaxBytes`. Raise it if the catalog accepts larger bodies, or report the connector.',
  },
  SINK_REJECTED: {
    retryable: false,
    exitCode: 1,
    action:
      'The catalog refused a batch (4xx). Check the catalog URL and token; the run fails without claiming completeness.',
  },
  SINK_UNAVAILABLE: {
    retryable: true,
    exitCode: 1,
    action:
      'The catalog could not be reached or answered 408/429/5xx after retries. The run resumes from its last checkpoint.',
  },
  OUTPUT_FAILED: {
    retryable: false,
    exitCode: 1,
    action:
      'Writing the --output directory or the review area (`review.dir`) failed. Check that it is writable and has free space; a review decision that could not be written leaves the run undecided, so decide again once it can.',
  },
  LEDGER_BROKEN: {
    retryable: false,
    exitCode: 1,
    action:
      'The outbound ledger chain does not verify: an entry was altered, removed or moved (the message names it). Treat the ledger as tampered with, keep its copy for investigation and compare it with the shipped ledger file.',
  },
  OUTPUT_NOT_SUPPORTED: {
    retryable: false,
    exitCode: 2,
    action:
      'The daemon does not take --output. To hold extracts for an operator before anything leaves, set `review.mode` (first or every) and `review.dir`, then release or drop them with `perimeter review approve|reject RUN`; `perimeter run JOB_FILE --output DIR` writes one job to a directory; `perimeter ledger show` lists what the daemon sent.',
  },
  REVIEW_NOT_FOUND: {
    retryable: false,
    exitCode: 2,
    action:
      'No complete run of that id is in the review area. List the runs waiting with `perimeter review list` and check `--dir`.',
  },
  REVIEW_ALTERED: {
    retryable: false,
    exitCode: 1,
    action:
      'A batch file in the review area changed or disappeared after its digest was recorded. Nothing was pushed; reject the run and extract it again.',
  },
  REVIEW_DECIDED: {
    retryable: false,
    exitCode: 2,
    action:
      'The run was already approved or rejected; a decision is final. Extract the run again to review it anew.',
  },
  RUN_ABORTED: {
    retryable: true,
    exitCode: 1,
    action: 'Shutdown stopped the run at a checkpoint; it resumes from there on the next attempt.',
  },
  RUN_CANCELLED: {
    retryable: false,
    exitCode: 1,
    action: 'A cancel instruction stopped the run. Nothing to do unless the cancel was unexpected.',
  },
  RUN_TIMEOUT: {
    retryable: true,
    exitCode: 1,
    action:
      'The run exceeded `queue.runTimeoutMs`. Raise it for large sources or narrow the selection.',
  },
  RUN_STALLED: {
    retryable: false,
    exitCode: 1,
    action:
      'The run lost its worker more than `queue.maxStalledCount` times (crash, OOM kill, or an event loop too busy to renew the lock). Check the workers’ memory and CPU, or raise `queue.lockDurationMs`.',
  },
  RUN_NOT_FOUND: {
    retryable: false,
    exitCode: 1,
    action:
      'The queue has no run of that id that the command can act on (finished runs are kept up to `queue.keepCompleted` / `queue.keepFailed`). Check the id with `perimeter runs list`.',
  },
  QUEUE_FULL: {
    retryable: false,
    exitCode: 1,
    action:
      'The queue already holds `queue.maxWaitingRuns` waiting runs, so the run instruction was refused and reported. Let the workers catch up (or add workers), then send it again; raise the limit only if Redis has room.',
  },
  RUN_RESOURCE_EXHAUSTED: {
    retryable: true,
    exitCode: 1,
    action:
      'The run used more memory than its cap and was stopped; the agent and its other runs went on, and the run is retried. If it fails again, raise `policy.connectors.<name>.runMemoryMb` (or `queue.runMemoryMb`, Helm `worker.runMemoryMb`) or narrow the selection.',
  },
  ARGUMENT_INVALID: {
    retryable: false,
    exitCode: 2,
    action:
      "A command-line argument is missing or malformed. Run `perimeter --help` for the command's usage and an example.",
  },
  INSTRUCTION_INVALID: {
    retryable: false,
    exitCode: 2,
    action:
      'An instruction from the control plane failed validation; it was refused and reported. No local action needed.',
  },
  INSTRUCTION_UNSIGNED: {
    retryable: false,
    exitCode: 2,
    action:
      'An instruction arrived without a signature while a public key is pinned. It was refused; check the control plane.',
  },
  INSTRUCTION_SIGNATURE_INVALID: {
    retryable: false,
    exitCode: 2,
    action:
      'An instruction signature did not verify against the pinned key: tampered or signed by another key. It was refused.',
  },
  INSTRUCTION_EXPIRED: {
    retryable: false,
    exitCode: 2,
    action:
      "An instruction arrived after its expiresAt (or is dated too far ahead). It was refused; check both sides' clocks.",
  },
  CONTROL_PLANE_UNAVAILABLE: {
    retryable: true,
    exitCode: 1,
    action:
      'The control plane could not be reached. Perimeter backs off with jitter and keeps runs going meanwhile.',
  },
  CONTROL_PLANE_REJECTED: {
    retryable: false,
    exitCode: 1,
    action:
      "The control plane refused Perimeter's agent token (401/403). Check the token the reference points to.",
  },
  CONTROL_PLANE_RESPONSE_INVALID: {
    retryable: true,
    exitCode: 1,
    action:
      'The control plane answered with a body that is not the v1 protocol (docs/protocol/control-plane.md). Perimeter backs off and retries; check the control-plane URL and version.',
  },
  REDIS_UNAVAILABLE: {
    retryable: true,
    exitCode: 1,
    action:
      'Redis could not be reached. Perimeter reconnects by itself; check `redis.url` and the Redis service.',
  },
  INTERNAL: {
    retryable: false,
    exitCode: 1,
    action: 'An unexpected error. Report it with the log line that carries this code.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A stable error code: the key an operator searches for in docs/errors.md. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Context carried by an error: identifiers and numbers only, never bodies, headers or secrets. */
export type ErrorContext = Readonly<
  Record<string, string | number | boolean | null | undefined | readonly string[]>
>;

/** Options of {@link PerimeterError}. */
export interface PerimeterErrorOptions {
  readonly cause?: unknown;
  /** Overrides the code's default retryable flag (e.g. a 403 that a connector knows is transient). */
  readonly retryable?: boolean;
  readonly context?: ErrorContext;
  /** For SOURCE_RATE_LIMITED and other throttling: how long the server asked us to wait. */
  readonly retryAfterMs?: number;
}

/**
 * The one error class. `code` says what happened, `retryable` what the queue does with it.
 * Messages never contain secret values, response bodies or header values.
 */
export class PerimeterError extends Error {
  override name = 'PerimeterError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly context: ErrorContext;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: PerimeterErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.context = options.context ?? {};
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The operator sentence for this error's code. */
  get action(): string {
    return ERROR_CODES[this.code].action;
  }

  /** A JSON-safe summary for events, acks and /status: code, message, retryable, context. */
  toSummary(): ErrorSummary {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      context: this.context,
    };
  }
}

/** What leaves the process about an error (events to the control plane, /status, CLI output). */
export interface ErrorSummary {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly context: ErrorContext;
}

/** True when `value` is a {@link PerimeterError}, optionally with one of the given codes. */
export function isPerimeterError(value: unknown, ...codes: ErrorCode[]): value is PerimeterError {
  return value instanceof PerimeterError && (codes.length === 0 || codes.includes(value.code));
}

/** Turns anything thrown into an Error, for `catch` blocks that do more than rethrow. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) {
    return value;
  }
  return new Error(typeof value === 'string' ? value : 'Non-error value thrown', { cause: value });
}

/**
 * Turns anything thrown into a PerimeterError. Unknown errors become INTERNAL with a generic
 * message: their own message may quote a body or a value, so it stays in `cause` (which the log
 * redactor sees) and never reaches an event or the CLI.
 */
export function toPerimeterError(value: unknown): PerimeterError {
  if (value instanceof PerimeterError) {
    return value;
  }
  if (isAbortError(value)) {
    return new PerimeterError('RUN_ABORTED', 'The operation was aborted', { cause: value });
  }
  // The error's class name is safe to show; its message may quote data, so it stays in `cause`.
  const kind = value instanceof Error ? ` (${value.name})` : '';
  return new PerimeterError('INTERNAL', `Unexpected error${kind}`, { cause: value });
}

/** True for the errors Node and undici throw when an AbortSignal fires. */
export function isAbortError(value: unknown): boolean {
  return (
    value instanceof Error &&
    (value.name === 'AbortError' || (value as { code?: unknown }).code === 'ABORT_ERR')
  );
}
