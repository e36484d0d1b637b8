import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { CanonicalSecretRef, SecretRef } from '../../agent/plugin-api/index.ts';
import type { AzureKvProfile } from './profile.ts';
import { normalizeVault } from './vault.ts';

const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VERSION = /^[0-9a-fA-F]{32}$/;
const EXPECTED_FORM =
  'Write azure-kv://<vault>/<secret>[/<version>] with <vault> a vault name (contoso-prod) or host (contoso-prod.vault.azure.cn), <secret> of letters, digits and dashes, and an optional 32-hex version (or ?version=).';

/**
 * Validates an `azure-kv` reference against the profile and returns its canonical form:
 * `<vault host>/<secret name>`, both lower-cased (Key Vault names are case-insensitive), the
 * version apart. A vault outside `allowedVaults` is refused here, before any network call: the
 * vault host comes from the reference, and a bearer token must never go to a host the operator
 * did not list.
 */
export function canonicalizeAzureRef(ref: SecretRef, profile: AzureKvProfile): CanonicalSecretRef {
  const parts = ref.locator.split('/');
  const [vault = '', name = '', pathVersion] = parts;
  if (parts.length < 2 || parts.length > 3) {
    throw invalid(ref, 'The locator has the wrong number of segments.');
  }
  const host = normalizeVault(vault);
  if (host === undefined) {
    throw invalid(ref, `"${vault}" is neither a vault name nor a vault host name.`);
  }
  if (!SECRET_NAME.test(name)) {
    throw invalid(ref, `"${name}" is not a Key Vault secret name.`);
  }
  const version = versionOf(ref, pathVersion);
  if (!profile.allowedVaults.some((allowed) => normalizeVault(allowed) === host)) {
    throw new PerimeterError(
      'SECRET_REF_DENIED',
      `Reference ${ref.raw} is denied: vault ${host} is not in allowedVaults of profile ${ref.profile}. Add it to secretStores.${ref.profile}.allowedVaults if Perimeter may read it.`,
      {
        context: {
          store: 'azure-kv',
          profile: ref.profile,
          reference: ref.raw,
          key: 'allowedVaults',
        },
      },
    );
  }
  const secretName = name.toLowerCase();
  const details: Record<string, string> = { vaultUrl: vaultUrlOf(host, profile), secretName };
  if (version !== undefined) {
    details['version'] = version;
  }
  return { locator: `${host}/${secretName}`, version, pinned: version !== undefined, details };
}

function versionOf(ref: SecretRef, pathVersion: string | undefined): string | undefined {
  for (const candidate of [pathVersion, ref.version]) {
    if (candidate !== undefined && !VERSION.test(candidate)) {
      throw invalid(ref, `"${candidate}" is not a version id (32 hexadecimal characters).`);
    }
  }
  const path = pathVersion?.toLowerCase();
  const param = ref.version?.toLowerCase();
  if (path !== undefined && param !== undefined && path !== param) {
    throw invalid(ref, 'The version in the path and ?version= differ; give one.');
  }
  return path ?? param;
}

function vaultUrlOf(host: string, profile: AzureKvProfile): string {
  for (const [vault, url] of Object.entries(profile.endpoints ?? {})) {
    if (normalizeVault(vault) === host) {
      return url.replace(/\/+$/, '');
    }
  }
  return `https://${host}`;
}

function invalid(ref: SecretRef, problem: string): PerimeterError {
  return new PerimeterError(
    'SECRET_INVALID_REF',
    `Invalid azure-kv reference ${ref.raw}: ${problem} ${EXPECTED_FORM}`,
    {
      context: { store: 'azure-kv', profile: ref.profile, reference: ref.raw },
    },
  );
}
