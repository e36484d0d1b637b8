import { z } from 'zod';
import { credentialRefSchema } from '../../agent/plugin-api/index.ts';

/** A project id (`acme-prod`, legacy `example.com:acme-prod`) or a project number. */
export const PROJECT_PATTERN = /^(?:(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]|\d{1,20})$/;

/** The regional endpoint when `regionalApiEndpoint` is unset; `{location}` is replaced. */
export const DEFAULT_REGIONAL_ENDPOINT = 'secretmanager.{location}.rep.googleapis.com';

const secretRefSchema = credentialRefSchema('file:///var/run/secrets/perimeter/gcp/key.json');

// `host`, `host:port` or a URL; checked further (http only on loopback) by `endpoint.ts`.
const endpointSchema = z
  .string()
  .min(1)
  .regex(/^(?:https?:\/\/)?[A-Za-z0-9.{}[\]:-]+\/?$/, 'must be host[:port] or an https:// URL');

const adcAuthSchema = z
  .strictObject({
    type: z
      .literal('adc')
      .describe(
        'Application Default Credentials: GKE Workload Identity (metadata server) or GOOGLE_APPLICATION_CREDENTIALS.',
      ),
  })
  .describe('Credentials from the workload identity of the pod or VM (recommended on GKE).');

const serviceAccountKeyAuthSchema = z
  .strictObject({
    type: z
      .literal('serviceAccountKey')
      .describe('A service-account key JSON (legacy; prefer workload identity).'),
    key: secretRefSchema.describe(
      'Reference to the whole service-account key JSON (type "service_account").',
    ),
  })
  .describe('A service-account key, resolved through another store and never logged.');

const externalAccountAuthSchema = z
  .strictObject({
    type: z
      .literal('externalAccount')
      .describe(
        'Workload identity federation (EKS, AKS, on-premises Kubernetes, any OIDC issuer).',
      ),
    configFile: z
      .string()
      .startsWith('/', 'must be an absolute path')
      .optional()
      .describe(
        'Path of the credential configuration JSON (`gcloud iam workload-identity-pools create-cred-config`), e.g. mounted from a ConfigMap.',
      ),
    config: secretRefSchema
      .optional()
      .describe('Reference to the same JSON, when it is kept in a secret store instead of a file.'),
  })
  .refine((auth) => (auth.configFile === undefined) !== (auth.config === undefined), {
    message: 'set exactly one of configFile and config',
  })
  .describe('An external_account credential configuration: token exchange with Google STS.');

/** How the store authenticates to Google Cloud. */
export const GcpSmAuthSchema = z.discriminatedUnion('type', [
  adcAuthSchema,
  serviceAccountKeyAuthSchema,
  externalAccountAuthSchema,
]);

/** Settings of one `gcp-sm` profile (`secretStores.<profile>`, besides `type` and `allow`). */
export const GcpSmProfileSchema = z.strictObject({
  allowedProjects: z
    .array(z.string().regex(PROJECT_PATTERN, 'must be a GCP project id or number'))
    .min(1)
    .describe('Projects whose secrets references may name; any other project is refused.'),
  transport: z
    .enum(['rest', 'grpc'])
    .default('rest')
    .describe(
      'rest: JSON over HTTP/1.1, works through HTTP proxies (default). grpc: HTTP/2, the SDK default.',
    ),
  apiEndpoint: endpointSchema
    .optional()
    .describe(
      'Global endpoint override (Private Service Connect, or a local fake): host[:port] or URL. Unset: secretmanager.googleapis.com.',
    ),
  regionalApiEndpoint: endpointSchema
    .optional()
    .describe(
      `Endpoint of regional secrets (?location=), {location} is replaced. Unset: ${DEFAULT_REGIONAL_ENDPOINT}.`,
    ),
  auth: GcpSmAuthSchema.default({ type: 'adc' }).describe(
    'How Perimeter authenticates: adc (workload identity), serviceAccountKey or externalAccount.',
  ),
  tokenHosts: z
    .array(z.string().regex(/^[A-Za-z0-9.-]+(?::\d{1,5})?$/, 'must be host or host:port'))
    .default([])
    .describe(
      'Hosts an external_account configuration may send tokens to, besides sts.googleapis.com and iamcredentials.googleapis.com.',
    ),
  attemptTimeoutMs: z
    .int()
    .min(100)
    .max(60_000)
    .default(5_000)
    .describe('Timeout of one AccessSecretVersion attempt, in milliseconds.'),
  totalTimeoutMs: z
    .int()
    .min(100)
    .max(60_000)
    .default(10_000)
    .describe(
      'Bound of one read with its retries of UNAVAILABLE and RESOURCE_EXHAUSTED (the SDK default is 10 minutes).',
    ),
});

/** A parsed `gcp-sm` profile. */
export type GcpSmProfile = z.output<typeof GcpSmProfileSchema>;

/** The `auth` setting of a parsed profile. */
export type GcpSmAuth = GcpSmProfile['auth'];
