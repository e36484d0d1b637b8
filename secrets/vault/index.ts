import { defineSecretStore } from '../../agent/plugin-api/index.ts';
import { createVaultClient } from './client.ts';
import { VaultProfileSchema } from './profile.ts';

export { VaultProfileSchema } from './profile.ts';
export type { VaultProfile } from './profile.ts';

/**
 * `vault://<mount>/<path>[?version=N][&mount=a/b][&kv=1|2][&namespace=ns][&field=f]`: HashiCorp Vault or
 * OpenBao KV v1/v2 through `node-vault`, one renewed token per profile. See README.md.
 */
export const vaultStore = defineSecretStore({
  scheme: 'vault',
  params: ['mount', 'kv', 'namespace', 'field'],
  profileSchema: VaultProfileSchema,
  create: createVaultClient,
});
