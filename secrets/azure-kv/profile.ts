import { z } from 'zod';
import {
  caFileSchema,
  credentialRefSchema,
  requestTimeoutMsSchema,
} from '../../agent/plugin-api/index.ts';
import { normalizeVault } from './vault.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

const tenantSchema = z
  .string()
  .regex(TENANT, 'must be a tenant id (GUID) or a verified domain such as contoso.onmicrosoft.com');
const clientIdSchema = z.string().regex(GUID, 'must be an application (client) id, a GUID');
const vaultSchema = z.string().refine((vault) => normalizeVault(vault) !== undefined, {
  message: 'must be a vault name (3-24 letters, digits, dashes) or a vault host name (FQDN)',
});

const secretRefSchema = credentialRefSchema(
  'file:///var/run/secrets/perimeter/azure/client-secret',
);

const workloadIdentity = z.strictObject({
  type: z
    .literal('workloadIdentity')
    .describe('AKS workload identity: a federated service-account token.'),
  tenantId: tenantSchema
    .optional()
    .describe('Tenant id. Unset: AZURE_TENANT_ID (set by the AKS webhook).'),
  clientId: clientIdSchema
    .optional()
    .describe('Client id of the managed identity or app. Unset: AZURE_CLIENT_ID.'),
  tokenFilePath: z
    .string()
    .min(1)
    .optional()
    .describe('Projected token file. Unset: AZURE_FEDERATED_TOKEN_FILE.'),
});

const managedIdentity = z
  .strictObject({
    type: z
      .literal('managedIdentity')
      .describe('Managed identity of the VM, App Service or Container App.'),
    clientId: clientIdSchema
      .optional()
      .describe('Client id of a user-assigned identity. Unset: system-assigned.'),
    resourceId: z
      .string()
      .startsWith('/subscriptions/', 'must be an ARM resource id (/subscriptions/…)')
      .optional()
      .describe('ARM resource id of a user-assigned identity (instead of clientId).'),
  })
  .refine((auth) => auth.clientId === undefined || auth.resourceId === undefined, {
    message: 'give clientId or resourceId, not both',
    path: ['resourceId'],
  });

const clientSecret = z.strictObject({
  type: z.literal('clientSecret').describe('An app registration with a client secret.'),
  tenantId: tenantSchema.describe('Tenant id of the app registration.'),
  clientId: clientIdSchema.describe('Application (client) id.'),
  clientSecret: secretRefSchema.describe('Reference to the client secret.'),
});

const clientCertificate = z.strictObject({
  type: z
    .literal('clientCertificate')
    .describe('An app registration with a certificate credential.'),
  tenantId: tenantSchema.describe('Tenant id of the app registration.'),
  clientId: clientIdSchema.describe('Application (client) id.'),
  certificate: secretRefSchema.describe(
    'Reference to a PEM holding the certificate and its RSA private key.',
  ),
  sendCertificateChain: z
    .boolean()
    .default(false)
    .describe('Send the x5c chain, for subject-name/issuer authentication.'),
});

/** How the store authenticates to Entra ID. */
export const AzureKvAuthSchema = z.discriminatedUnion('type', [
  workloadIdentity,
  managedIdentity,
  clientSecret,
  clientCertificate,
]);

/** Settings of one `azure-kv` profile (`secretStores.<profile>`, besides `type` and `allow`). */
export const AzureKvProfileSchema = z
  .strictObject({
    allowedVaults: z
      .array(vaultSchema)
      .min(1)
      .describe(
        'Vaults references may name: a short name means <name>.vault.azure.net, a host name any cloud. Others are refused before any call.',
      ),
    endpoints: z
      .record(vaultSchema, z.url({ protocol: /^https$/ }))
      .optional()
      .describe(
        'Per-vault endpoint override (vault → https URL): a private endpoint address or a test fake. Unset: https://<vault host>.',
      ),
    auth: AzureKvAuthSchema.describe(
      'How Perimeter authenticates: workloadIdentity, managedIdentity, clientSecret or clientCertificate.',
    ),
    authorityHost: z
      .url({ protocol: /^https$/ })
      .optional()
      .describe(
        'Entra ID authority (https://login.microsoftonline.us, https://login.chinacloudapi.cn, a fake). Unset: AZURE_AUTHORITY_HOST, then the public cloud.',
      ),
    disableInstanceDiscovery: z
      .boolean()
      .default(false)
      .describe(
        'Skip Entra instance discovery: required for an authority Microsoft does not know (Azure Stack, fakes).',
      ),
    additionallyAllowedTenants: z
      .array(z.union([tenantSchema, z.literal('*')]))
      .optional()
      .describe(
        "Tenants besides the credential's own that a vault's challenge may name ('*' for any).",
      ),
    disableChallengeResourceVerification: z
      .boolean()
      .default(false)
      .describe(
        "Accept a challenge resource outside the vault's domain (custom DNS aliases, fakes). Keep false otherwise: it stops a token for one resource going to another host.",
      ),
    caFile: caFileSchema(),
    maxRetries: z
      .int()
      .min(0)
      .max(5)
      .default(2)
      .describe(
        'Retries per read inside the SDK on 429 (honouring Retry-After), 5xx and network errors.',
      ),
    requestTimeoutMs: requestTimeoutMsSchema(),
  })
  .superRefine((profile, context) => {
    const allowed = new Set(profile.allowedVaults.map(normalizeVault));
    for (const vault of Object.keys(profile.endpoints ?? {})) {
      if (!allowed.has(normalizeVault(vault))) {
        context.addIssue({
          code: 'custom',
          path: ['endpoints', vault],
          message: 'overrides a vault that is not in allowedVaults; list it there first',
        });
      }
    }
  });

/** A parsed `azure-kv` profile. */
export type AzureKvProfile = z.output<typeof AzureKvProfileSchema>;
