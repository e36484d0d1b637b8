// Child-process entry for the lazy-loading test (secrets/lazy-load.test.ts): builds a client of
// every cloud secret store and canonicalizes a reference with each, reading nothing, then reads
// once through the vault store (from a closed port), and prints the npm packages the process
// loaded at each point as JSON: `{"built": [...], "afterVaultRead": [...]}`. Everything is
// imported after the resolve hook is registered, so that the hook sees every package.
import { registerHooks } from 'node:module';

const PACKAGE = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;
const loaded = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    const name = PACKAGE.exec(result.url)?.[1];
    if (name !== undefined) {
      loaded.add(name);
    }
    return result;
  },
});

const { secretStores } = await import('../../secrets/index.ts');
const { parseSecretRef } = await import('../../agent/secrets/ref.ts');
const { testStoreDeps } = await import('./store-deps.ts');

const closedPort = process.argv[2] ?? '9';
const settings: Record<string, { profile: Record<string, unknown>; ref: string }> = {
  'aws-sm': { profile: { region: 'us-east-1' }, ref: 'aws-sm://prod/db' },
  'azure-kv': {
    profile: { allowedVaults: ['contoso-prod'], auth: { type: 'managedIdentity' } },
    ref: 'azure-kv://contoso-prod/db',
  },
  'gcp-sm': { profile: { allowedProjects: ['acme-prod'] }, ref: 'gcp-sm://acme-prod/db' },
  vault: {
    profile: {
      address: `http://127.0.0.1:${closedPort}`,
      auth: { type: 'token', token: 'env://VAULT_TOKEN' },
      requestTimeoutMs: 1_000,
    },
    ref: 'vault://secret/apps/db',
  },
};
// Every store that is configured (no implicit profile) is built here: a new one must add its line.
const missing = secretStores
  .filter((store) => store.implicitProfile === undefined && !(store.scheme in settings))
  .map((store) => store.scheme);
if (missing.length > 0) {
  throw new Error(`store-loading.ts has no settings for ${missing.join(', ')}`);
}
const deps = testStoreDeps({ references: { 'env://VAULT_TOKEN': 'hvs.not-a-real-token' } }).deps;
const clients = Object.entries(settings).map(([scheme, { profile, ref }]) => {
  const store = secretStores.find((candidate) => candidate.scheme === scheme);
  if (store === undefined) {
    throw new Error(`no store ${scheme}`);
  }
  const client = store.create(store.profileSchema.parse(profile), deps);
  return { scheme, client, ref: client.canonicalize(parseSecretRef(ref, [store])) };
});
const built = [...loaded].sort();

const vault = clients.find((entry) => entry.scheme === 'vault');
await vault?.client.fetch(vault.ref, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
const afterVaultRead = [...loaded].sort();

await Promise.all(clients.map((entry) => entry.client.close()));
process.stdout.write(JSON.stringify({ built, afterVaultRead }));
