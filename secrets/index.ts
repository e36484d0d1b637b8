import type { SecretStoreDefinition } from '../agent/plugin-api/index.ts';
import { awsSecretsManagerStore } from './aws-sm/index.ts';
import { azureKeyVaultStore } from './azure-kv/index.ts';
import { envStore } from './env/index.ts';
import { fileStore } from './file/index.ts';
import { gcpSmStore } from './gcp-sm/index.ts';
import { vaultStore } from './vault/index.ts';

/**
 * Every shipped secret store, registered explicitly (never discovered from the filesystem).
 * Each store folder adds its definition here; the scheme is the folder's name.
 */
export const secretStores: readonly SecretStoreDefinition[] = [
  envStore,
  fileStore,
  awsSecretsManagerStore,
  azureKeyVaultStore,
  gcpSmStore,
  vaultStore,
];
