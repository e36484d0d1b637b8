import { PerimeterError, causeChain, isTlsFailure } from '../../agent/plugin-api/index.ts';
import type { ErrorCode } from '../../agent/plugin-api/index.ts';

/** gRPC status names by number, for error context (`sdkCode`). */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

interface Outcome {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable?: boolean;
}

function byStatus(status: number, detail: string): Outcome {
  switch (status) {
    case 5:
      return {
        code: 'SECRET_NOT_FOUND',
        message:
          'GCP Secret Manager has no such secret or version. Check the project, secret id, version and location',
      };
    case 9: {
      // Disabled and destroyed versions are authoritative answers, never served stale (§3.5, 10).
      const state = detail.includes('DESTROYED')
        ? 'destroyed'
        : detail.includes('DISABLED')
          ? 'disabled'
          : 'not accessible';
      return {
        code: 'SECRET_NOT_FOUND',
        message: `The secret version is ${state}. Reference an enabled version (or latest)`,
      };
    }
    case 7:
      return {
        code: 'SECRET_ACCESS_DENIED',
        message:
          "GCP refused Perimeter's identity (PERMISSION_DENIED). Grant it roles/secretmanager.secretAccessor on the secret",
      };
    case 16:
      return {
        code: 'SECRET_ACCESS_DENIED',
        message:
          'GCP did not accept the credentials (UNAUTHENTICATED). Check the profile auth settings',
      };
    case 3:
      return {
        code: 'SECRET_INVALID_REF',
        message: 'GCP Secret Manager rejected the secret name (INVALID_ARGUMENT)',
      };
    default:
      return {
        code: 'SECRET_UNAVAILABLE',
        message:
          'GCP Secret Manager was unavailable, throttled the read or timed out, after bounded retries',
      };
  }
}

// Errors of the token exchange (STS, impersonation, metadata server) arrive as GaxiosErrors.
function byHttpStatus(status: number): Outcome {
  if (status === 400 || status === 401 || status === 403) {
    return {
      code: 'SECRET_ACCESS_DENIED',
      message: `The GCP token exchange was refused (HTTP ${status}). Check the workload identity pool, provider and bindings`,
    };
  }
  return {
    code: 'SECRET_UNAVAILABLE',
    message: `The GCP token endpoint answered HTTP ${status}`,
    retryable: status === 408 || status === 429 || status >= 500,
  };
}

/**
 * The HTTP status of a failed token call (STS, impersonation, metadata server) in the cause
 * chain, if any. gax re-labels such failures with the status of the API call it was making (an
 * STS 400 becomes INVALID_ARGUMENT); the token call is told apart by its URL.
 */
export function tokenCallStatus(error: unknown): number | undefined {
  for (const link of causeChain(error)) {
    const { config, response } = link as {
      config?: { url?: unknown };
      response?: { status?: unknown };
    };
    const url =
      config?.url instanceof URL
        ? config.url.href
        : typeof config?.url === 'string'
          ? config.url
          : '';
    if (typeof response?.status === 'number' && url !== '' && !url.includes(':access')) {
      return response.status;
    }
  }
  return undefined;
}

/**
 * Maps what the SDK or the auth library threw to the store contract. Server messages stay in
 * `cause` (the redactor sees it); the message says what to do and never quotes a body. gax
 * reports a refused certificate as UNAVAILABLE with the TLS error in its message (gRPC) or in the
 * fetch error it wraps (REST): it is told apart, as the operator needs to know it is trust.
 */
export function mapGcpError(error: unknown, locator: string): PerimeterError {
  if (error instanceof PerimeterError) {
    return error;
  }
  const shape = (error ?? {}) as {
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown };
    message?: unknown;
  };
  const detail = typeof shape.message === 'string' ? shape.message : '';
  const httpStatus = tokenCallStatus(error);
  if (isTlsFailure(error)) {
    return new PerimeterError(
      'TLS_UNTRUSTED',
      "GCP Secret Manager's TLS certificate is not trusted. Add the CA of the proxy or endpoint with http.caFile",
      { cause: error, context: { store: 'gcp-sm', locator } },
    );
  }
  let outcome: Outcome;
  let sdkCode: string | undefined;
  if (httpStatus !== undefined) {
    outcome = byHttpStatus(httpStatus);
  } else if (typeof shape.code === 'number') {
    outcome = byStatus(shape.code, detail);
    sdkCode = STATUS_NAMES[shape.code] ?? String(shape.code);
  } else {
    outcome = {
      code: 'SECRET_UNAVAILABLE',
      message:
        'GCP Secret Manager could not be reached. Check DNS, proxy and firewall for the endpoint',
    };
    sdkCode = typeof shape.code === 'string' ? shape.code : undefined;
  }
  return new PerimeterError(outcome.code, outcome.message, {
    cause: error,
    ...(outcome.retryable === undefined ? {} : { retryable: outcome.retryable }),
    context: { store: 'gcp-sm', locator, status: httpStatus, sdkCode },
  });
}
