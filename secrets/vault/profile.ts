import { z } from 'zod';
import {
  caFileSchema,
  credentialRefSchema,
  requestTimeoutMsSchema,
  storeUrlSchema,
} from '../../agent/plugin-api/index.ts';

/** The projected service-account token of a Kubernetes pod. */
export const DEFAULT_KUBERNETES_JWT_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

const secretRefSchema = credentialRefSchema('file:///var/run/secrets/perimeter/vault/token');

// Mount paths may have several segments (`team-a/approle`), never empty, `.` or `..` ones.
const mountSchema = z
  .string()
  .regex(
    /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/,
    'must be a mount path such as approle or team-a/kubernetes (no leading or trailing "/")',
  );

const tokenAuthSchema = z
  .strictObject({
    type: z.literal('token').describe('A Vault token, e.g. written by Vault Agent to a file.'),
    token: secretRefSchema.describe(
      'Reference to the token (file:///vault/secrets/token, env://VAULT_TOKEN); re-read when Vault rejects it.',
    ),
  })
  .describe('A token obtained outside Perimeter; renewed while renewable, never revoked.');

const approleAuthSchema = z
  .strictObject({
    type: z.literal('approle').describe('AppRole login.'),
    mount: mountSchema.default('approle').describe('Mount path of the AppRole auth method.'),
    roleId: z.string().min(1).describe('The role id (not a secret on its own).'),
    secretId: secretRefSchema.describe(
      'Reference to the secret id; re-read at every login, as secret ids may be single-use.',
    ),
  })
  .describe('Logs in once per profile, renews the token and revokes it on shutdown.');

const kubernetesAuthSchema = z
  .strictObject({
    type: z.literal('kubernetes').describe('Kubernetes service-account login.'),
    mount: mountSchema.default('kubernetes').describe('Mount path of the Kubernetes auth method.'),
    role: z.string().min(1).describe('The Vault role bound to the pod service account.'),
    jwtFile: z
      .string()
      .startsWith('/', 'must be an absolute path')
      .default(DEFAULT_KUBERNETES_JWT_FILE)
      .describe('Service-account token file, re-read at every login (projected tokens rotate).'),
  })
  .describe('Logs in once per profile, renews the token and revokes it on shutdown.');

/** How the store authenticates to Vault. */
export const VaultAuthSchema = z.discriminatedUnion('type', [
  tokenAuthSchema,
  approleAuthSchema,
  kubernetesAuthSchema,
]);

/** Settings of one `vault` profile (`secretStores.<profile>`, besides `type` and `allow`). */
export const VaultProfileSchema = z.strictObject({
  address: storeUrlSchema().describe(
    'Vault or OpenBao address, e.g. https://vault.example.com:8200.',
  ),
  namespace: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/,
      'must be a namespace path such as admin/team-a',
    )
    .optional()
    .describe(
      'Vault Enterprise / HCP namespace for login and reads; ?namespace= overrides it for a read.',
    ),
  kv: z
    .union([z.literal(1), z.literal(2)])
    .default(2)
    .describe('KV engine version of the mounts references name; ?kv= overrides it per reference.'),
  auth: VaultAuthSchema.describe('How Perimeter authenticates: token, approle or kubernetes.'),
  caFile: caFileSchema(),
  requestTimeoutMs: requestTimeoutMsSchema(),
});

/** A parsed `vault` profile. */
export type VaultProfile = z.output<typeof VaultProfileSchema>;

/** The `auth` setting of a parsed profile. */
export type VaultAuth = VaultProfile['auth'];
