import { createLazyStoreClient, defineSecretStore } from '../../agent/plugin-api/index.ts';
import { mapVaultError } from './errors.ts';
import { canonicalizeVaultRef } from './locator.ts';
import { VaultProfileSchema } from './profile.ts';

export { VaultProfileSchema } from './profile.ts';
export type { VaultProfile } from './profile.ts';

// Bound of close: a login in flight and the revocation (3 s each at most, see client.ts).
const CLOSE_TIMEOUT_MS = 4_000;

/**
 * `vault://<mount>/<path>[?version=N][&mount=a/b][&kv=1|2][&namespace=ns][&field=f]`: HashiCorp Vault or
 * OpenBao KV v1/v2 through `node-vault` (loaded at the first read or probe), one renewed token
 * per profile. See README.md.
 */
export const vaultStore = defineSecretStore({
  scheme: 'vault',
  params: ['mount', 'kv', 'namespace', 'field'],
  profileSchema: VaultProfileSchema,
  create: (profile, deps) =>
    createLazyStoreClient({
      scheme: 'vault',
      deps,
      canonicalize: (ref) =>
        canonicalizeVaultRef(ref, { kv: profile.kv, namespace: profile.namespace }),
      load: async () => (await import('./client.ts')).createVaultBackend(profile, deps),
      mapError: mapVaultError,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
    }),
});
