import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { CanonicalSecretRef, SecretRef } from '../../agent/plugin-api/index.ts';

const EXPECTED =
  'Expected vault://<mount>/<path>[?version=<n>][&mount=<multi/segment>][&kv=1|2][&namespace=<ns>][&field=<name>], e.g. vault://secret/apps/agent/openai#api_key';

/** What `fetch` needs, carried in `CanonicalSecretRef.details`. */
export interface VaultTarget {
  /** The API path under /v1 (`secret/data/apps/db`, `kv/team-a/db`), decoded. */
  readonly apiPath: string;
  readonly kv: 1 | 2;
  /** Namespace sent as X-Vault-Namespace; '' for none. */
  readonly namespace: string;
  /** One field to return instead of the whole map ('' for the map). */
  readonly field: string;
}

function invalid(ref: SecretRef, problem: string): PerimeterError {
  return new PerimeterError(
    'SECRET_INVALID_REF',
    `Invalid vault reference: ${problem}. ${EXPECTED}`,
    {
      context: { store: 'vault', ref: ref.raw },
    },
  );
}

/** True when `text` holds a control character (C0 or DEL). */
function hasControl(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) {
      return true;
    }
  }
  return false;
}

// Empty, `.` and `..` segments would let a reference climb out of its mount once the URL is
// normalised, and control characters have no place in a path.
function checkSegments(ref: SecretRef, what: string, path: string): string[] {
  const segments = path.split('/');
  const bad = segments.some(
    (segment) => segment === '' || segment === '.' || segment === '..' || hasControl(segment),
  );
  if (bad) {
    throw invalid(ref, `the ${what} has an empty, "." or ".." segment, or a control character`);
  }
  return segments;
}

function kvVersion(ref: SecretRef, profileKv: 1 | 2): 1 | 2 {
  const raw = ref.params['kv'];
  if (raw === undefined) {
    return profileKv;
  }
  if (raw !== '1' && raw !== '2') {
    throw invalid(ref, '?kv= must be 1 or 2');
  }
  return raw === '1' ? 1 : 2;
}

// ESO's rules (reference §4.1): the mount is the first segment unless ?mount= names it, and a
// locator that repeats the mount has it removed.
function splitMount(ref: SecretRef): { mount: string; path: string } {
  const segments = checkSegments(ref, 'locator', ref.locator);
  const mountParam = ref.params['mount'];
  if (mountParam === undefined) {
    const [mount = '', ...rest] = segments;
    return { mount, path: rest.join('/') };
  }
  const mount = checkSegments(ref, 'mount', mountParam.replace(/^\/+|\/+$/g, '')).join('/');
  const path = ref.locator.startsWith(`${mount}/`)
    ? ref.locator.slice(mount.length + 1)
    : ref.locator;
  return { mount, path };
}

// KV v2: API-style paths (`secret/data/x`) and CLI-style paths (`secret/x`) name the same secret.
function kv2Path(ref: SecretRef, path: string): string {
  if (path.startsWith('metadata/') || path.startsWith('delete/') || path.startsWith('destroy/')) {
    throw invalid(ref, 'the path names a KV v2 metadata or delete endpoint, not the secret data');
  }
  return path.startsWith('data/') ? path.slice('data/'.length) : path;
}

function version(ref: SecretRef, kv: 1 | 2): string | undefined {
  if (ref.version === undefined) {
    return undefined;
  }
  if (kv === 1) {
    throw invalid(ref, 'KV v1 has no versions: remove ?version= or use ?kv=2');
  }
  if (!/^[1-9]\d{0,9}$/.test(ref.version)) {
    throw invalid(ref, '?version= must be a positive integer');
  }
  return ref.version;
}

/**
 * Validates a `vault://` reference and returns its canonical form: the API path Vault is asked
 * for (`secret/data/apps/db`), prefixed with the namespace when there is one, so that allowlist
 * globs see exactly what is read.
 */
export function canonicalizeVaultRef(
  ref: SecretRef,
  defaults: { readonly kv: 1 | 2; readonly namespace: string | undefined },
): CanonicalSecretRef {
  const kv = kvVersion(ref, defaults.kv);
  const { mount, path: rawPath } = splitMount(ref);
  const path = kv === 2 ? kv2Path(ref, rawPath) : rawPath;
  if (path === '') {
    throw invalid(ref, `no secret path after the mount "${mount}"`);
  }
  const pinnedVersion = version(ref, kv);
  const namespaceParam = ref.params['namespace']?.replace(/^\/+|\/+$/g, '');
  const namespace = namespaceParam ?? defaults.namespace ?? '';
  if (namespace !== '') {
    checkSegments(ref, 'namespace', namespace);
  }
  const field = ref.params['field'] ?? '';
  if (ref.params['field'] !== undefined && (field === '' || hasControl(field))) {
    throw invalid(ref, '?field= must name a field of the secret');
  }
  const apiPath = kv === 2 ? `${mount}/data/${path}` : `${mount}/${path}`;
  const located = namespace === '' ? apiPath : `${namespace}/${apiPath}`;
  return {
    // The field is part of the locator: it changes the payload, so it is part of the cache key.
    locator: field === '' ? located : `${located}?field=${field}`,
    version: pinnedVersion,
    pinned: pinnedVersion !== undefined,
    // The string form of a VaultTarget; targetOf() reads it back.
    details: { apiPath, kv: String(kv), namespace, field },
  };
}

/** Reads back the {@link VaultTarget} that {@link canonicalizeVaultRef} put in `details`. */
export function targetOf(ref: CanonicalSecretRef): VaultTarget {
  return {
    apiPath: ref.details['apiPath'] ?? '',
    kv: ref.details['kv'] === '1' ? 1 : 2,
    namespace: ref.details['namespace'] ?? '',
    field: ref.details['field'] ?? '',
  };
}

/** The request path for node-vault: each segment percent-encoded (`?`, `#`, `%` stay in the path). */
export function encodeApiPath(apiPath: string): string {
  return apiPath.split('/').map(encodeURIComponent).join('/');
}
