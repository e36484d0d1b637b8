import { defineSecretStore } from '../../agent/plugin-api/index.ts';
import { AzureKeyVaultStore } from './client.ts';
import { AzureKvProfileSchema } from './profile.ts';

/**
 * Azure Key Vault: `azure-kv://<vault>/<secret>[/<version>]`, the vault a name or a host listed
 * in the profile's `allowedVaults`. See secrets/azure-kv/README.md for profiles, auth methods and
 * RBAC roles.
 */
export const azureKeyVaultStore = defineSecretStore({
  scheme: 'azure-kv',
  params: [],
  profileSchema: AzureKvProfileSchema,
  create: (profile, deps) => new AzureKeyVaultStore(profile, deps),
});

export { AzureKvProfileSchema } from './profile.ts';
export type { AzureKvProfile } from './profile.ts';
