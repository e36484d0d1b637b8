import { readFile } from 'node:fs/promises';
import { PerimeterError, resolveCredential } from '../../agent/plugin-api/index.ts';
import type { SecretStoreDeps } from '../../agent/plugin-api/index.ts';
import type { VaultApi } from './api.ts';
import { mapVaultError, vaultStatus } from './errors.ts';
import type { VaultAuth } from './profile.ts';

/** A token and where it came from: a login made here (revoked on close) or given from outside. */
export interface ObtainedToken {
  readonly token: string;
  readonly loginDerived: boolean;
}

/** Obtains a token: logs in, or re-reads the token reference. */
export type Login = (signal: AbortSignal) => Promise<ObtainedToken>;

async function readJwt(path: string, signal: AbortSignal): Promise<string> {
  try {
    return (await readFile(path, { encoding: 'utf8', signal })).trim();
  } catch (error) {
    if (signal.aborted) {
      throw error;
    }
    throw new PerimeterError(
      'CONFIG_INVALID',
      'secretStores.<profile>.auth.jwtFile cannot be read. Mount the service-account token (automountServiceAccountToken or a projected volume)',
      { cause: error, context: { store: 'vault', path } },
    );
  }
}

function loginRefused(error: unknown, method: string, mount: string): unknown {
  const status = vaultStatus(error);
  if (status === 400 || status === 403) {
    return new PerimeterError(
      'SECRET_ACCESS_DENIED',
      `Vault refused the ${method} login at auth/${mount}. Check the role and its credentials`,
      { cause: error, context: { store: 'vault', status, mount } },
    );
  }
  return mapVaultError(error, `auth/${mount}/login`);
}

/**
 * The profile's way to a token. Every credential read on the way (secret id, service-account
 * JWT, token) is registered with the redactor, and read again at each login because secret ids
 * may be single-use and projected tokens rotate.
 */
export function createLogin(auth: VaultAuth, api: VaultApi, deps: SecretStoreDeps): Login {
  switch (auth.type) {
    case 'token':
      return async (signal) => {
        const credential = { scheme: 'vault', key: 'token', ref: auth.token };
        return { token: await resolveCredential(deps, credential, signal), loginDerived: false };
      };
    case 'approle':
      return async (signal) => {
        const credential = { scheme: 'vault', key: 'secretId', ref: auth.secretId };
        const secretId = await resolveCredential(deps, credential, signal);
        const body = { role_id: auth.roleId, secret_id: secretId };
        const token = await api
          .login('approle', auth.mount, body, signal)
          .catch((error: unknown) => {
            throw loginRefused(error, 'AppRole', auth.mount);
          });
        deps.redact(token);
        return { token, loginDerived: true };
      };
    case 'kubernetes':
      return async (signal) => {
        const jwt = await readJwt(auth.jwtFile, signal);
        deps.redact(jwt);
        const token = await api
          .login('kubernetes', auth.mount, { role: auth.role, jwt }, signal)
          .catch((error: unknown) => {
            throw loginRefused(error, 'Kubernetes', auth.mount);
          });
        deps.redact(token);
        return { token, loginDerived: true };
      };
  }
}
