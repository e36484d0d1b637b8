import { z } from 'zod';
import { secretValueSchema, sourceUrl } from '../../agent/plugin-api/index.ts';

/** An example control-plane origin for messages (current tenants answer on 443). */
const EXAMPLE_URL = 'https://acme.app.cyral.com';

/** A qualified-name segment: no slash, so `cyral/<tenant>/...` stays unambiguous. */
const TenantSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]{1,128}$/,
    'must be 1 to 128 letters, digits, dots, dashes or underscores',
  );

/** The API client credentials; each field a secret reference in a job file. */
export const CyralCredentialsSchema = z
  .strictObject({
    clientId: secretValueSchema().describe('Cyral API client id (a secret reference).'),
    clientSecret: secretValueSchema().describe('Cyral API client secret (a secret reference).'),
  })
  .describe('The API client credentials created in Cyral under API Client Credentials.');

const RetrySchema = z
  .strictObject({
    maxAttempts: z
      .int()
      .min(1)
      .max(10)
      .default(4)
      .describe(
        'Tries of a per-object read that answered 5xx without saying NotFound (Cyral answers some NotFounds with 500, so these reads are retried here rather than by the HTTP client).',
      ),
    baseDelayMs: z
      .int()
      .min(1)
      .max(60_000)
      .default(500)
      .describe(
        'Ceiling of the first wait between those tries, in ms; doubles per try (full jitter).',
      ),
    maxDelayMs: z
      .int()
      .min(1)
      .max(300_000)
      .default(10_000)
      .describe('Longest wait between those tries, in ms.'),
  })
  .describe('Retries of per-object reads whose 5xx may mean NotFound.');

/** Settings of one Cyral connection. Credentials are resolved secret references. */
export const CyralConfigSchema = z
  .strictObject({
    baseUrl: sourceUrl(EXAMPLE_URL).describe(
      'Control-plane origin with its API port: https://<tenant>.app.cyral.com for current control planes, https://<tenant>.cyral.com:8000 for older ones (http only for a loopback simulator).',
    ),
    tenant: TenantSchema.optional().describe(
      'Name of this control plane in qualified names (cyral/<tenant>/...); default: the host name of baseUrl.',
    ),
    credentials: CyralCredentialsSchema,
    clientIdField: z
      .enum(['client_id', 'clientId'])
      .default('client_id')
      .describe(
        'How the token request spells the client id and secret fields: client_id/client_secret (current control planes) or clientId/clientSecret (older ones).',
      ),
    bindingsPageSize: z
      .int()
      .min(1)
      .max(100)
      .default(100)
      .describe('Page size of POST /v1/sidecars/{id}/composedBindings/filter.'),
    retry: RetrySchema.prefault({}),
    repositoryTimeoutMs: z
      .int()
      .min(1_000)
      .max(3_600_000)
      .default(120_000)
      .describe(
        'Longest time one repository (settings, data map, accounts and access rules) may take, in ms; a slower one is skipped with reason timeout and the run goes on.',
      ),
  })
  .transform((config) => ({
    ...config,
    tenant: config.tenant ?? tenantFromHost(new URL(config.baseUrl).hostname),
  }));

/** The default tenant name: the control-plane host, made a valid qualified-name segment. */
function tenantFromHost(hostname: string): string {
  return hostname.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^-+|-+$/g, '') || 'cyral';
}

/** A validated Cyral connection. */
export type CyralConfig = z.output<typeof CyralConfigSchema>;

const IdsSchema = z.array(z.string().min(1).max(256)).max(100_000).default([]);

/** Params of discover and extract: which repositories and sidecars. */
export const CyralParamsSchema = z
  .strictObject({
    repositoryIds: IdsSchema.describe(
      'Ids of the repositories to extract; empty means every repository.',
    ),
    sidecarIds: IdsSchema.describe('Ids of the sidecars to extract; empty means every sidecar.'),
  })
  .prefault({});

/** Validated params of a Cyral run. */
export type CyralParams = z.output<typeof CyralParamsSchema>;
