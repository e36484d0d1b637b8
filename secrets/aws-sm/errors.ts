import { PerimeterError, isNetworkFailure, isTlsFailure } from '../../agent/plugin-api/index.ts';
import type { ErrorCode } from '../../agent/plugin-api/index.ts';

/** What an error is about: the profile and the canonical locator (or `probe`). */
export interface AwsErrorScope {
  readonly profile: string;
  readonly locator: string;
}

// Error names are compared, never classes: AccessDeniedException and ThrottlingException are not
// modelled for GetSecretValue and arrive as the generic service exception (reference §1.5).
const NOT_FOUND = new Set(['ResourceNotFoundException']);
const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  // STS, for the web-identity exchange of IRSA.
  'AccessDenied',
  'InvalidIdentityToken',
  'InvalidIdentityTokenException',
  'IDPRejectedClaim',
  'IDPRejectedClaimException',
  'DecryptionFailure',
]);
// The SDK's own names for an attempt that timed out, besides Node's socket codes.
const TIMEOUTS = new Set(['RequestTimeout', 'RequestTimeoutException']);

interface SdkErrorShape {
  readonly error: unknown;
  readonly message: string | undefined;
  readonly name: string | undefined;
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly fault: string | undefined;
}

function shapeOf(error: unknown): SdkErrorShape {
  if (typeof error !== 'object' || error === null) {
    return {
      error,
      message: undefined,
      name: undefined,
      code: undefined,
      status: undefined,
      fault: undefined,
    };
  }
  const record = error as {
    message?: unknown;
    name?: unknown;
    code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : undefined;
  const status = record.$metadata?.httpStatusCode;
  return {
    error,
    message: text(record.message),
    name: text(record.name),
    code: text(record.code),
    status: typeof status === 'number' ? status : undefined,
    fault: text(record.$fault),
  };
}

interface Rule {
  readonly matches: (shape: SdkErrorShape) => boolean;
  readonly code: ErrorCode;
  /** What went wrong and what to do; `id` is the SDK error name or network code. */
  readonly problem: (id: string) => string;
  readonly retryable?: boolean;
}

const named =
  (names: ReadonlySet<string>) =>
  (shape: SdkErrorShape): boolean =>
    names.has(shape.name ?? '') || names.has(shape.code ?? '');

// First match wins; FALLBACK catches everything else as a non-retryable failure.
const RULES: readonly Rule[] = [
  {
    matches: named(NOT_FOUND),
    code: 'SECRET_NOT_FOUND',
    problem: (id) => `no such secret or version (${id})`,
  },
  {
    // GetSecretValue answers this for a secret scheduled for deletion (ESO maps it the same way).
    matches: named(new Set(['InvalidRequestException'])),
    code: 'SECRET_NOT_FOUND',
    problem: (id) =>
      `the secret is not readable in its current state, e.g. scheduled for deletion (${id})`,
  },
  {
    matches: named(new Set(['CredentialsProviderError'])),
    code: 'SECRET_ACCESS_DENIED',
    problem: () =>
      'no AWS credentials found. Annotate the service account for IRSA or EKS Pod Identity, or set auth.type static',
  },
  {
    matches: named(DENIED),
    code: 'SECRET_ACCESS_DENIED',
    problem: (id) =>
      `AWS refused the identity or its permissions (${id}). Check the role's secretsmanager:GetSecretValue (and kms:Decrypt) grants`,
  },
  {
    // The SDK's own check, before any call: no region in the reference, profile or environment.
    matches: (shape) => shape.message === 'Region is missing',
    code: 'SECRET_INVALID_REF',
    problem: () => 'no region is known. Set the profile region, add ?region= or use an ARN',
  },
  {
    matches: named(new Set(['InvalidParameterException'])),
    code: 'SECRET_INVALID_REF',
    problem: (id) => `AWS rejected the request parameters (${id}). Check the name, ARN and version`,
  },
  {
    matches: (shape) => isTlsFailure(shape.error),
    code: 'TLS_UNTRUSTED',
    problem: (id) => `the endpoint's TLS certificate is not trusted (${id})`,
  },
  {
    matches: (shape) => named(TIMEOUTS)(shape) || isNetworkFailure(shape.error),
    code: 'SECRET_UNAVAILABLE',
    problem: (id) => `the endpoint could not be reached (${id})`,
  },
  {
    matches: (shape) =>
      shape.status === 429 || /Throttl|TooManyRequests|LimitExceeded/.test(shape.name ?? ''),
    code: 'SECRET_UNAVAILABLE',
    problem: (id) => `throttled after retries (${id})`,
  },
  {
    matches: (shape) => shape.fault === 'server' || (shape.status ?? 0) >= 500,
    code: 'SECRET_UNAVAILABLE',
    problem: (id) => `the service failed after retries (${id})`,
  },
];

const FALLBACK: Rule = {
  matches: () => true,
  code: 'SECRET_UNAVAILABLE',
  problem: (id) => `the request failed (${id})`,
  retryable: false,
};

/**
 * Maps an AWS SDK error to a PerimeterError. The SDK's message is never copied: it comes from the
 * response body. Context carries the error name and HTTP status only.
 */
export function mapAwsError(error: unknown, scope: AwsErrorScope): PerimeterError {
  if (error instanceof PerimeterError) {
    return error;
  }
  const shape = shapeOf(error);
  const id =
    (shape.name !== undefined && shape.name !== 'Error' ? shape.name : shape.code) ??
    (shape.status !== undefined ? `HTTP ${shape.status}` : 'unknown error');
  const rule = RULES.find((candidate) => candidate.matches(shape)) ?? FALLBACK;
  return new PerimeterError(
    rule.code,
    `AWS Secrets Manager (profile ${scope.profile}) for ${scope.locator}: ${rule.problem(id)}.`,
    {
      cause: error,
      retryable: rule.retryable,
      context: {
        store: 'aws-sm',
        profile: scope.profile,
        locator: scope.locator,
        status: shape.status,
        sdkCode: id,
      },
    },
  );
}
