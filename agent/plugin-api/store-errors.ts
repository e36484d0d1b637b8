import { raceAbort } from './abort.ts';
import { PerimeterError, isPerimeterError } from './errors.ts';
import type { SecretStoreDeps } from './secrets.ts';

/**
 * Shared pieces of the secret stores' error mapping. Each store keeps its own table (SDK error
 * names and statuses differ); what every SDK reports the same way (Node's socket and TLS errors,
 * wrapped in causes at various depths) is recognised here once.
 */

/** Node/OpenSSL codes of a server certificate the client does not trust. */
export const TLS_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Node codes of a network path that failed before any answer (worth a retry). */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
]);

// SDKs that re-wrap a TLS failure keep only OpenSSL's text (gax, MSAL): matched, never copied.
const TLS_MESSAGE =
  /unable to verify|self[- ]signed certificate|certificate has expired|unable to get (local )?issuer|altnames/i;

/** An error and its causes, outermost first (objects only, at most `depth`). */
export function causeChain(error: unknown, depth = 6): readonly Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = [];
  let link: unknown = error;
  while (typeof link === 'object' && link !== null && chain.length < depth) {
    const current = link as Record<string, unknown>;
    chain.push(current);
    link = current['cause'];
  }
  return chain;
}

/** The string `code`s along the cause chain (Node's `ECONNREFUSED`, OpenSSL's, the SDKs'). */
export function causeCodes(error: unknown): string[] {
  return causeChain(error)
    .map((link) => link['code'])
    .filter((code): code is string => typeof code === 'string');
}

/** True when the chain holds a TLS trust failure, by code or by OpenSSL's message. */
export function isTlsFailure(error: unknown): boolean {
  return causeChain(error).some((link) => {
    const { code, message } = link;
    return (
      (typeof code === 'string' && TLS_ERROR_CODES.has(code)) ||
      (typeof message === 'string' && TLS_MESSAGE.test(message))
    );
  });
}

/** True when the chain holds a socket-level failure (refused, reset, unresolved, timed out). */
export function isNetworkFailure(error: unknown): boolean {
  return causeChain(error).some(
    ({ code, name }) =>
      (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) ||
      (typeof name === 'string' && NETWORK_ERROR_CODES.has(name)),
  );
}

/** The error of a call made after the store client was closed: final, not worth a retry. */
export function storeClosedError(scheme: string, profile: string): PerimeterError {
  return new PerimeterError('SECRET_UNAVAILABLE', `The ${scheme} profile ${profile} is closed.`, {
    retryable: false,
    context: { store: scheme, profile },
  });
}

/** How long resolving one store credential may take (another store's read, with retries). */
export const CREDENTIAL_RESOLVE_TIMEOUT_MS = 30_000;

/** Which credential of which profile {@link resolveCredential} reads. */
export interface CredentialRef {
  /** The store's scheme, for messages and context. */
  readonly scheme: string;
  /** The key under `auth` that holds the reference, e.g. `secretId`. */
  readonly key: string;
  /** The reference itself (never a value, so it may be named). */
  readonly ref: string;
}

/**
 * Resolves a store credential that is itself a secret reference (static keys, a client secret, an
 * AppRole secret id) through another profile, within {@link CREDENTIAL_RESOLVE_TIMEOUT_MS}. The
 * value is trimmed (files end with a newline) and registered with the log redactor. A failure
 * keeps its code and names `auth.<key>` and the reference, so the operator sees which of the
 * profile's credentials is missing rather than an anonymous not found.
 */
export async function resolveCredential(
  deps: SecretStoreDeps,
  credential: CredentialRef,
  signal: AbortSignal,
): Promise<string> {
  const bounded = AbortSignal.any([signal, AbortSignal.timeout(CREDENTIAL_RESOLVE_TIMEOUT_MS)]);
  try {
    const secret = await raceAbort(deps.resolve(credential.ref, { signal: bounded }), bounded);
    const value = secret.reveal().trim();
    deps.redact(value);
    return value;
  } catch (error) {
    if (signal.aborted) {
      throw signal.reason;
    }
    const inner = isPerimeterError(error) ? error : undefined;
    const { scheme, key, ref } = credential;
    throw new PerimeterError(
      inner?.code ?? 'SECRET_UNAVAILABLE',
      `The ${scheme} profile ${deps.profileName} could not resolve auth.${key} (${ref}): ${inner?.message ?? 'unexpected error'}`,
      {
        cause: error,
        retryable: inner?.retryable,
        retryAfterMs: inner?.retryAfterMs,
        context: { store: scheme, profile: deps.profileName, key: `auth.${key}` },
      },
    );
  }
}
