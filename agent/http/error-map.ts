import { PerimeterError, coerceError } from '../plugin-api/index.ts';
import type { ErrorCode } from '../plugin-api/index.ts';
import { certificateError } from './tls-explain.ts';
import type { TlsDiagnosis } from './tls-explain.ts';
import type { ErrorDomain } from './types.ts';

/** What an HTTP error may say about the request: never headers, bodies or query strings. */
export interface FailureContext {
  readonly domain: ErrorDomain;
  readonly endpoint: string;
  readonly host: string;
  readonly attempt: number;
}

/** Why a failed attempt may be retried; also the `reason` label of `perimeter_retries_total`. */
export type RetryReason = 'status429' | 'status5xx' | 'status408' | 'network' | 'timeout';

/**
 * Node's certificate verification codes. Behind a TLS-inspecting proxy the first two are what
 * users meet; the rest mean the same to an operator: this chain is not trusted.
 */
const TLS_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** The client was closed under the request (shutdown): the run resumes later. */
const CLOSED_CODES = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

/** The request itself is malformed (a header with a newline, say): a bug, retrying cannot help. */
const USAGE_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
]);

const NOUNS: Readonly<Record<ErrorDomain, string>> = {
  source: 'The source',
  sink: 'The catalog',
  controlPlane: 'The control plane',
};

/** The retry reason of a status, or undefined when the status is not worth retrying. */
export function statusRetryReason(status: number): RetryReason | undefined {
  if (status === 429) {
    return 'status429';
  }
  if (status === 408) {
    return 'status408';
  }
  return status >= 500 && status <= 599 ? 'status5xx' : undefined;
}

/** The retry reason of a transport error; undefined for TLS failures, which retrying won't fix. */
export function transportRetryReason(error: unknown): RetryReason | undefined {
  const codes = errorCodes(error);
  const hopeless = [TLS_CODES, CLOSED_CODES, USAGE_CODES];
  if (codes.some((code) => hopeless.some((set) => set.has(code)))) {
    return undefined;
  }
  return codes.some((code) => TIMEOUT_CODES.has(code)) ? 'timeout' : 'network';
}

/** The code a status maps to in a domain. */
export function statusErrorCode(domain: ErrorDomain, status: number): ErrorCode {
  const unavailable = statusRetryReason(status) !== undefined;
  switch (domain) {
    case 'source':
      if (status === 401) {
        return 'SOURCE_AUTH_FAILED';
      }
      if (status === 403) {
        return 'SOURCE_ACCESS_DENIED';
      }
      if (status === 429) {
        return 'SOURCE_RATE_LIMITED';
      }
      return unavailable ? 'SOURCE_UNAVAILABLE' : 'SOURCE_REQUEST_FAILED';
    case 'sink':
      return unavailable ? 'SINK_UNAVAILABLE' : 'SINK_REJECTED';
    case 'controlPlane':
      return unavailable ? 'CONTROL_PLANE_UNAVAILABLE' : 'CONTROL_PLANE_REJECTED';
  }
}

/** The error for a status the caller did not accept. The body is never read into it. */
export function statusError(
  status: number,
  context: FailureContext,
  options: { readonly retryAfterMs?: number | undefined; readonly problem?: string } = {},
): PerimeterError {
  const { domain, endpoint, host, attempt } = context;
  const problem = options.problem ?? `answered ${status}`;
  const attempts = attempt > 1 ? ` after ${attempt} attempts` : '';
  return new PerimeterError(
    statusErrorCode(domain, status),
    `${NOUNS[domain]} ${problem} to ${endpoint} (${host})${attempts}.`,
    { context: { endpoint, status, attempt, host }, retryAfterMs: options.retryAfterMs },
  );
}

/** Node's certificate verification code in an error's cause chain, if it is such a failure. */
export function certificateCode(error: unknown): string | undefined {
  return errorCodes(error).find((code) => TLS_CODES.has(code));
}

/** Whether the certificate that failed is the https proxy's own rather than the target's. */
export function isProxyCertificateFailure(error: unknown): boolean {
  return errorCodes(error).includes('UND_ERR_PRX_TLS');
}

/**
 * The error for a request that got no response: TLS trust, timeout or network failure. A
 * certificate failure says more with a `diagnosis` (what was presented, what is trusted).
 */
export function transportError(
  error: unknown,
  context: FailureContext,
  diagnosis?: TlsDiagnosis,
): PerimeterError {
  const { domain, endpoint, host, attempt } = context;
  const codes = errorCodes(error);
  const tlsCode = certificateCode(error);
  if (tlsCode !== undefined) {
    return certificateError(error, context, tlsCode, diagnosis);
  }
  const networkCode = codes[0] ?? 'unknown';
  if (codes.some((code) => CLOSED_CODES.has(code))) {
    return new PerimeterError('RUN_ABORTED', `The HTTP client closed during ${endpoint}.`, {
      cause: error,
      context: { endpoint, host, attempt, networkCode },
    });
  }
  if (codes.some((code) => USAGE_CODES.has(code))) {
    return new PerimeterError('INTERNAL', `${endpoint} could not be sent (${networkCode}).`, {
      cause: error,
      context: { endpoint, host, attempt, networkCode },
    });
  }
  const what = transportRetryReason(error) === 'timeout' ? 'timed out' : 'could not be reached';
  return new PerimeterError(
    unavailableCode(domain),
    `${NOUNS[domain]} at ${host} ${what} for ${endpoint} (${networkCode}) after ${attempt} attempt(s). Check DNS, proxy and firewall.`,
    { cause: error, context: { endpoint, host, attempt, networkCode } },
  );
}

/** The error for an aborted request: the signal's own reason when it is ours, else RUN_ABORTED. */
export function abortedError(signal: AbortSignal, cause?: unknown): PerimeterError {
  const reason: unknown = signal.reason;
  if (reason instanceof PerimeterError) {
    return reason;
  }
  return new PerimeterError('RUN_ABORTED', 'The request was aborted.', { cause: cause ?? reason });
}

/** The error for a response body larger than a cap. */
export function tooLargeError(
  context: FailureContext,
  detail: { readonly limitBytes: number; readonly lineNumber?: number },
): PerimeterError {
  const { endpoint, host } = context;
  const what = detail.lineNumber === undefined ? 'body' : `line ${detail.lineNumber}`;
  const key = detail.lineNumber === undefined ? 'http.maxResponseBytes' : 'http.maxLineBytes';
  return new PerimeterError(
    'SOURCE_RESPONSE_TOO_LARGE',
    `The response ${what} of ${endpoint} (${host}) exceeds ${detail.limitBytes} bytes. Raise \`${key}\` if it is legitimate.`,
    { context: { endpoint, host, limitBytes: detail.limitBytes, lineNumber: detail.lineNumber } },
  );
}

function unavailableCode(domain: ErrorDomain): ErrorCode {
  switch (domain) {
    case 'source':
      return 'SOURCE_UNAVAILABLE';
    case 'sink':
      return 'SINK_UNAVAILABLE';
    case 'controlPlane':
      return 'CONTROL_PLANE_UNAVAILABLE';
  }
}

/** The `code` of the error and of its causes, outermost first (undici wraps proxy failures). */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const code = (coerceError(current) as { code?: unknown }).code;
    if (typeof code === 'string') {
      codes.push(code);
    }
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}
