import {
  PerimeterError,
  causeChain,
  isNetworkFailure,
  isTlsFailure,
} from '../../agent/plugin-api/index.ts';
import type { ErrorCode } from '../../agent/plugin-api/index.ts';

/** What an error is about: the profile and the canonical locator (or `probe`). */
export interface AzureErrorScope {
  readonly profile: string;
  readonly locator: string;
}

interface AzureErrorShape {
  readonly error: unknown;
  readonly name: string;
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly innerCode: string | undefined;
  readonly retryAfterMs: number | undefined;
  /** The messages of the whole cause chain, joined: matched, never copied. */
  readonly message: string;
  /** True when an Entra ID credential failed (anywhere in the cause chain). */
  readonly identity: boolean;
  /** The OAuth error of Entra's answer (`invalid_client`...), from MSAL's error in the chain. */
  readonly oauthError: string | undefined;
}

const IDENTITY_ERRORS = new Set([
  'AuthenticationError',
  'AuthenticationRequiredError',
  'AggregateAuthenticationError',
  'CredentialUnavailableError',
]);
// Entra refused the credential itself: the references behind it deserve a fresh read.
const REJECTIONS = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant']);

interface Verdict {
  readonly code: ErrorCode;
  /** Short machine-readable reason, for context and for tests. */
  readonly reason: string;
  /** What went wrong and what to do. */
  readonly problem: string;
  readonly retryable?: boolean;
}

// MSAL reports an unreachable authority in its message only.
const NETWORK_TEXT =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up|network/i;

/**
 * Maps an error of the Key Vault client or of an Entra ID credential to a PerimeterError. The
 * SDK's message is only matched, never copied: it may quote a response body.
 */
export function mapAzureError(error: unknown, scope: AzureErrorScope): PerimeterError {
  const own = causeChain(error).find((link) => link instanceof PerimeterError);
  if (own instanceof PerimeterError) {
    return own;
  }
  const shape = shapeOf(error);
  const verdict = classify(shape);
  return new PerimeterError(
    verdict.code,
    `Azure Key Vault (profile ${scope.profile}) for ${scope.locator}: ${verdict.problem}.`,
    {
      cause: error,
      retryable: verdict.retryable,
      retryAfterMs: verdict.code === 'SECRET_UNAVAILABLE' ? shape.retryAfterMs : undefined,
      context: {
        store: 'azure-kv',
        profile: scope.profile,
        locator: scope.locator,
        status: shape.status,
        sdkCode: shape.innerCode ?? shape.code ?? shape.name,
        reason: verdict.reason,
      },
    },
  );
}

function classify(shape: AzureErrorShape): Verdict {
  const id = shape.innerCode ?? shape.code ?? shape.name;
  if (shape.identity) {
    return classifyCredential(shape);
  }
  if (shape.name === 'RestError' && shape.status !== undefined) {
    return classifyStatus(shape.status, id);
  }
  return classifyTransport(shape, id);
}

function classifyCredential(shape: AzureErrorShape): Verdict {
  const status = shape.status ?? 0;
  if (status >= 500 || status === 429) {
    return {
      code: 'SECRET_UNAVAILABLE',
      reason: 'authority-unavailable',
      problem: `Entra ID failed to issue a token (HTTP ${status})`,
    };
  }
  if (shape.message.includes('not configured to acquire tokens for tenant')) {
    return {
      code: 'SECRET_ACCESS_DENIED',
      reason: 'tenant-not-allowed',
      problem:
        "the vault's challenge names another tenant than the credential's. Add it to additionallyAllowedTenants if that is intended",
    };
  }
  if (isTlsFailure(shape.error)) {
    return {
      code: 'TLS_UNTRUSTED',
      reason: 'tls-untrusted',
      problem:
        "the Entra ID authority's TLS certificate is not trusted. Add its CA with caFile or the agent's CA setting",
    };
  }
  if (shape.status === undefined && NETWORK_TEXT.test(shape.message)) {
    return {
      code: 'SECRET_UNAVAILABLE',
      reason: 'authority-unavailable',
      problem: 'Entra ID could not be reached',
    };
  }
  if (shape.name === 'CredentialUnavailableError') {
    return {
      code: 'SECRET_ACCESS_DENIED',
      reason: 'credential-unavailable',
      problem:
        'the credential is unavailable: check the workload identity webhook (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE) or the managed identity of the host',
    };
  }
  return {
    code: 'SECRET_ACCESS_DENIED',
    reason: 'authentication-failed',
    problem: `Entra ID refused the credential (HTTP ${status || 'error'}). Check the tenant, client id and secret, certificate or federated credential`,
  };
}

function classifyStatus(status: number, id: string): Verdict {
  if (status === 404) {
    return {
      code: 'SECRET_NOT_FOUND',
      reason: 'not-found',
      problem: `no such secret or version, or it is deleted (${id})`,
    };
  }
  if (status === 403 && id === 'SecretDisabled') {
    return {
      code: 'SECRET_ACCESS_DENIED',
      reason: 'disabled',
      problem: 'the secret version is disabled. Enable it in the vault or pin an enabled version',
    };
  }
  if (status === 401 || status === 403) {
    return {
      code: 'SECRET_ACCESS_DENIED',
      reason: status === 401 ? 'token-rejected' : 'forbidden',
      problem: `the vault refused the identity (${id}). Grant it "Key Vault Secrets User" on the secret or vault (or an access policy with secrets/get)`,
    };
  }
  if (status === 429 || status >= 500) {
    return {
      code: 'SECRET_UNAVAILABLE',
      reason: status === 429 ? 'throttled' : 'server-error',
      problem: `the vault answered HTTP ${status} after retries (${id})`,
    };
  }
  if (status === 400) {
    return {
      code: 'SECRET_INVALID_REF',
      reason: 'bad-request',
      problem: `the vault rejected the request (${id}). Check the secret name and version`,
    };
  }
  return {
    code: 'SECRET_UNAVAILABLE',
    reason: 'unexpected-status',
    problem: `the vault answered HTTP ${status} (${id})`,
    retryable: false,
  };
}

function classifyTransport(shape: AzureErrorShape, id: string): Verdict {
  if (isTlsFailure(shape.error)) {
    return {
      code: 'TLS_UNTRUSTED',
      reason: 'tls-untrusted',
      problem:
        "the endpoint's TLS certificate is not trusted. Add its CA with caFile or the agent's CA setting",
    };
  }
  if (/^The challenge (resource|origin)|The request URL must use HTTPS/.test(shape.message)) {
    return {
      code: 'SECRET_ACCESS_DENIED',
      reason: 'challenge-refused',
      problem:
        "the vault's authentication challenge names a resource outside the vault's domain, so no token was sent. For a private DNS alias set disableChallengeResourceVerification",
    };
  }
  if (shape.code === 'REQUEST_SEND_ERROR' || isNetworkFailure(shape.error)) {
    return {
      code: 'SECRET_UNAVAILABLE',
      reason: 'unreachable',
      problem: `the endpoint could not be reached (${id})`,
    };
  }
  return {
    code: 'SECRET_UNAVAILABLE',
    reason: 'unexpected',
    problem: `the request failed (${id})`,
    retryable: false,
  };
}

/** True when Entra refused the credential itself (not a transient or configuration failure). */
export function isCredentialRejection(error: unknown): boolean {
  const shape = shapeOf(error);
  return shape.identity && shape.oauthError !== undefined && REJECTIONS.has(shape.oauthError);
}

interface ErrorLink {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly status?: unknown;
  readonly errorCode?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly details?: {
    error?: { innerError?: { code?: unknown }; innererror?: { code?: unknown } };
  };
  readonly response?: { headers?: { get?(name: string): string | undefined } };
}

// The identity library wraps MSAL's errors (AuthenticationRequiredError → ServerError): the
// status and OAuth error sit further down the cause chain.
function chainOf(error: unknown): readonly ErrorLink[] {
  return causeChain(error);
}

function shapeOf(error: unknown): AzureErrorShape {
  const chain = chainOf(error);
  const top = chain[0] ?? {};
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : undefined;
  const number = (value: unknown): number | undefined =>
    typeof value === 'number' ? value : undefined;
  const inner = top.details?.error?.innerError ?? top.details?.error?.innererror;
  const identity = chain.some((link) => IDENTITY_ERRORS.has(text(link.name) ?? ''));
  const statusOf = (link: ErrorLink): number | undefined =>
    number(link.statusCode) ?? number(link.status);
  return {
    error,
    name: text(top.name) ?? 'Error',
    code: text(top.code),
    status: identity
      ? chain.map(statusOf).find((status) => status !== undefined)
      : number(top.statusCode),
    innerCode: text(inner?.code),
    retryAfterMs: retryAfterOf(top.response?.headers),
    message: chain.map((link) => text(link.message) ?? '').join(' | '),
    identity,
    oauthError: chain.map((link) => text(link.errorCode)).find((code) => code !== undefined),
  };
}

function retryAfterOf(
  headers: { get?(name: string): string | undefined } | undefined,
): number | undefined {
  const get = (name: string): string | undefined => headers?.get?.(name);
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(get(name));
    if (Number.isFinite(ms) && ms >= 0 && get(name) !== undefined) {
      return ms;
    }
  }
  const retryAfter = get('retry-after');
  if (retryAfter === undefined) {
    return undefined;
  }
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) {
    return Math.max(0, seconds * 1000);
  }
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
