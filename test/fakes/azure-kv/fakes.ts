import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testPki } from '../../helpers/tls.ts';
import { FakeEntra } from './entra.ts';
import { FakeKeyVault } from './key-vault.ts';
import { TokenRegistry } from './tokens.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const CLIENT_ID = '0e4a9b1c-5d6f-4a7b-8c9d-0e1f2a3b4c5d';
/** The vault name references use; the profile points it at the fake. */
export const VAULT = 'contoso-prod';

/** An Entra fake and a Key Vault fake over loopback TLS, with a workload-identity token file. */
export interface AzureFakes {
  readonly entra: FakeEntra;
  readonly vault: FakeKeyVault;
  readonly tokens: TokenRegistry;
  /** The projected service-account token Entra trusts for CLIENT_ID (workload identity). */
  readonly federatedToken: string;
  readonly tokenFilePath: string;
  /** A profile (store settings only) pointing at the fakes, with workload identity. */
  profile(overrides?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

/** Starts both fakes; the vault trusts tokens Entra issues for TENANT_ID. */
export async function startAzureFakes(
  options: { readonly resource?: string; readonly retryAfterSeconds?: number } = {},
): Promise<AzureFakes> {
  const pki = testPki();
  const tls = { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem };
  const tokens = new TokenRegistry();
  const entra = await FakeEntra.start(tls, tokens);
  const vault = await FakeKeyVault.start({ tls, tokens, tenantId: TENANT_ID, ...options });
  const federatedToken = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('base64url')}.sa-token`;
  entra.register(TENANT_ID, CLIENT_ID, { kind: 'federated', assertion: federatedToken });
  const tokenFilePath = join(tempDir('azure-wi'), 'azure-identity-token');
  writeFileSync(tokenFilePath, federatedToken);
  return {
    entra,
    vault,
    tokens,
    federatedToken,
    tokenFilePath,
    profile: (overrides = {}) => ({
      allowedVaults: [VAULT],
      endpoints: { [VAULT]: vault.url },
      authorityHost: entra.url,
      disableInstanceDiscovery: true,
      // The fake listens on 127.0.0.1, outside the challenge resource's domain (reference §2.1).
      disableChallengeResourceVerification: true,
      caFile: pki.caFile,
      maxRetries: 0,
      auth: { type: 'workloadIdentity', tenantId: TENANT_ID, clientId: CLIENT_ID, tokenFilePath },
      ...overrides,
    }),
    close: async () => {
      await Promise.all([entra.close(), vault.close()]);
    },
  };
}
