import { PerimeterError, causeCodes, isTlsFailure } from '../../agent/plugin-api/index.ts';

/** The HTTP status of a node-vault ApiResponseError, if `error` is one. */
export function vaultStatus(error: unknown): number | undefined {
  const status = (error as { response?: { statusCode?: unknown } } | null)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** KV v2 answers 404 with metadata for a deleted or destroyed version (reference §4.5, 5). */
function deletedVersion(error: unknown): 'deleted' | 'destroyed' | undefined {
  const body = (error as { response?: { body?: unknown } }).response?.body as
    { data?: { metadata?: { deletion_time?: unknown; destroyed?: unknown } } } | undefined;
  const metadata = body?.data?.metadata;
  if (metadata?.destroyed === true) {
    return 'destroyed';
  }
  return typeof metadata?.deletion_time === 'string' && metadata.deletion_time !== ''
    ? 'deleted'
    : undefined;
}

function byStatus(
  status: number,
  error: unknown,
): { code: PerimeterError['code']; message: string; retryable?: boolean } {
  if (status === 404) {
    const gone = deletedVersion(error);
    return {
      code: 'SECRET_NOT_FOUND',
      message:
        gone === undefined
          ? 'Vault has no secret at this path. Check the mount, path and KV version (?kv=)'
          : `This version of the secret was ${gone} in Vault. Reference another version or the latest`,
    };
  }
  if (status === 403) {
    return {
      code: 'SECRET_ACCESS_DENIED',
      message:
        "Vault denied the read: the token's policies do not allow this path. Grant read on it",
    };
  }
  if (status === 400) {
    return {
      code: 'SECRET_INVALID_REF',
      message: 'Vault rejected the request (400). Check the mount, path and KV version',
    };
  }
  if (status === 429 || status === 412 || status >= 500) {
    return {
      code: 'SECRET_UNAVAILABLE',
      message: `Vault is unavailable, sealed, in standby or rate-limiting (HTTP ${status})`,
    };
  }
  return { code: 'SECRET_UNAVAILABLE', message: `Vault answered HTTP ${status}`, retryable: false };
}

/**
 * Maps what node-vault or axios threw to the store contract. Vault's messages stay in `cause`;
 * the message says what to do and never quotes a body.
 */
export function mapVaultError(error: unknown, locator: string): PerimeterError {
  if (error instanceof PerimeterError) {
    return error;
  }
  const status = vaultStatus(error);
  if (status !== undefined) {
    const outcome = byStatus(status, error);
    return new PerimeterError(outcome.code, outcome.message, {
      cause: error,
      ...(outcome.retryable === undefined ? {} : { retryable: outcome.retryable }),
      context: { store: 'vault', locator, status },
    });
  }
  const sdkCode = causeCodes(error)[0];
  if (isTlsFailure(error)) {
    return new PerimeterError(
      'TLS_UNTRUSTED',
      "Vault's TLS certificate is not trusted. Set secretStores.<profile>.caFile (or http.caFile) to the CA that signed it",
      { cause: error, context: { store: 'vault', locator, sdkCode } },
    );
  }
  return new PerimeterError(
    'SECRET_UNAVAILABLE',
    'Vault could not be reached or timed out. Check the address, DNS, proxy and firewall',
    { cause: error, context: { store: 'vault', locator, sdkCode } },
  );
}
