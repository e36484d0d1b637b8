import { createLazyStoreClient, defineSecretStore } from '../../agent/plugin-api/index.ts';
import { mapAzureError } from './errors.ts';
import { canonicalizeAzureRef } from './locator.ts';
import { AzureKvProfileSchema } from './profile.ts';

/**
 * Azure Key Vault: `azure-kv://<vault>/<secret>[/<version>]`, the vault a name or a host listed
 * in the profile's `allowedVaults`. The Azure SDK is loaded at the first read or probe. See
 * secrets/azure-kv/README.md for profiles, auth methods and RBAC roles.
 */
export const azureKeyVaultStore = defineSecretStore({
  scheme: 'azure-kv',
  params: [],
  profileSchema: AzureKvProfileSchema,
  create: (profile, deps) =>
    createLazyStoreClient({
      scheme: 'azure-kv',
      deps,
      canonicalize: (ref) => canonicalizeAzureRef(ref, profile),
      load: async (lifetime) =>
        (await import('./client.ts')).createAzureBackend(profile, deps, lifetime),
      mapError: (error, locator) => mapAzureError(error, { profile: deps.profileName, locator }),
    }),
});

export { AzureKvProfileSchema } from './profile.ts';
export type { AzureKvProfile } from './profile.ts';
