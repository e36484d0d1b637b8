// The cloud secret stores as an operator configures them, each against its fake: the
// `secretStores` entry in YAML, the variables the agent's environment holds, and a reference to a
// secret `{"secret": <value>}` already stored there. For run-level tests (vault-runs.test.ts).
import { rm } from 'node:fs/promises';
import { FakeSecretsManager } from '../fakes/aws-sm/secrets-manager.ts';
import { CLIENT_ID, TENANT_ID, startAzureFakes } from '../fakes/azure-kv/fakes.ts';
import { startGcpSmFake } from '../fakes/gcp-sm/fake.ts';
import { startVaultFake } from '../fakes/vault/fake.ts';
import type { RoleGrant, VaultFake } from '../fakes/vault/fake.ts';
import { makeCanary } from './canary.ts';
import { testPki } from './tls.ts';
import { tempDir } from './temp-dir.ts';

/** One store set up for a run. */
export interface OperatorStore {
  /** The entry under `secretStores:` (indented by two spaces), as an operator writes it. */
  readonly yaml: string;
  /** The agent's environment: what the profile's `env://` credentials read. */
  readonly env: Readonly<Record<string, string>>;
  /** A reference to the stored secret's `secret` key. */
  readonly ref: string;
  /** The store's own credentials and the tokens issued so far, which must never leak either. */
  credentials(): readonly string[];
  close(): Promise<void>;
}

const document = (value: string): string => JSON.stringify({ secret: value });

/** AWS Secrets Manager with static keys read from the agent's environment. */
export async function awsStore(value: string): Promise<OperatorStore> {
  const fake = await FakeSecretsManager.start();
  const accessKeyId = 'AKIAPERIMETERRUNS01';
  const secretAccessKey = makeCanary('aws-secret-access-key');
  fake.addKey(accessKeyId, { secretAccessKey });
  fake.put('perimeter/fixture', document(value));
  const yaml = `
  aws-sm:
    type: aws-sm
    region: us-east-1
    endpoint: ${fake.url}
    allow: ["perimeter/*"]
    auth:
      type: static
      accessKeyId: env://STORE_AWS_ACCESS_KEY_ID
      secretAccessKey: env://STORE_AWS_SECRET_ACCESS_KEY`;
  return {
    yaml,
    env: {
      STORE_AWS_ACCESS_KEY_ID: accessKeyId,
      STORE_AWS_SECRET_ACCESS_KEY: secretAccessKey,
    },
    ref: 'aws-sm://perimeter/fixture#secret',
    credentials: () => [secretAccessKey],
    close: () => fake.close(),
  };
}

/**
 * Azure Key Vault with AKS workload identity: the webhook's variables in the environment, the
 * vault and Entra fakes behind a private CA given as the profile's caFile.
 */
export async function azureStore(value: string): Promise<OperatorStore> {
  const fakes = await startAzureFakes();
  fakes.vault.put('perimeter-fixture', document(value));
  const yaml = `
  azure-kv:
    type: azure-kv
    allowedVaults: [contoso-prod]
    allow: ["contoso-prod.vault.azure.net/perimeter-*"]
    endpoints: { contoso-prod: "${fakes.vault.url}" }
    authorityHost: ${fakes.entra.url}
    disableInstanceDiscovery: true
    disableChallengeResourceVerification: true   # the fakes listen on 127.0.0.1
    caFile: ${testPki().caFile}
    auth: { type: workloadIdentity }`;
  return {
    yaml,
    env: {
      AZURE_TENANT_ID: TENANT_ID,
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_FEDERATED_TOKEN_FILE: fakes.tokenFilePath,
    },
    ref: 'azure-kv://contoso-prod/perimeter-fixture#secret',
    credentials: () => [fakes.federatedToken, ...fakes.tokens.values()],
    close: () => fakes.close(),
  };
}

/** GCP Secret Manager through workload identity federation (an external_account file). */
export async function gcpStore(value: string): Promise<OperatorStore> {
  const fake = await startGcpSmFake();
  const dir = tempDir('gcp-run');
  const configFile = await fake.federate(dir);
  fake.state.addVersion('projects/perimeter-runs/secrets/fixture-secret', document(value));
  const yaml = `
  gcp-sm:
    type: gcp-sm
    allowedProjects: [perimeter-runs]
    allow: ["projects/perimeter-runs/secrets/fixture-*"]
    apiEndpoint: ${fake.restUrl}
    tokenHosts: ["${new URL(fake.restUrl).host}"]
    auth:
      type: externalAccount
      configFile: ${configFile}`;
  return {
    yaml,
    env: {},
    ref: 'gcp-sm://perimeter-runs/fixture-secret#secret',
    credentials: () => [],
    close: async () => {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** HashiCorp Vault with AppRole, the secret id in the agent's environment. */
export async function vaultStore(
  value: string,
  grant: Partial<RoleGrant> = {},
): Promise<OperatorStore & { readonly fake: VaultFake }> {
  const fake = await startVaultFake();
  fake.mountKv('secret', 2);
  fake.putKv2('secret', 'perimeter/fixture', { secret: value });
  const { roleId, secretId } = fake.addAppRole({
    policies: ['secret/data/perimeter/*'],
    ttlSeconds: 3600,
    ...grant,
  });
  const yaml = `
  vault:
    type: vault
    address: ${fake.address}
    allow: ["secret/data/perimeter/**"]   # KV v2 locators include data/
    auth:
      type: approle
      roleId: ${roleId}
      secretId: env://STORE_VAULT_SECRET_ID`;
  return {
    fake,
    yaml,
    env: { STORE_VAULT_SECRET_ID: secretId },
    ref: 'vault://secret/perimeter/fixture#secret',
    credentials: () => [secretId, ...fake.issuedTokens()],
    close: () => fake.close(),
  };
}

/**
 * Every store that an operator configures (no implicit profile), by scheme; a conformance test
 * keeps it equal to the registry's, so run-level tests cover a new store.
 */
export const operatorStores: Readonly<Record<string, (value: string) => Promise<OperatorStore>>> = {
  'aws-sm': awsStore,
  'azure-kv': azureStore,
  'gcp-sm': gcpStore,
  vault: (value) => vaultStore(value),
};
