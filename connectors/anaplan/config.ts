import { z } from 'zod';
import { secretValueSchema, sourceUrl } from '../../agent/plugin-api/index.ts';

/** Anaplan's authentication host; regional tenants use e.g. https://eu3.auth.anaplan.com. */
export const DEFAULT_AUTH_URL = 'https://auth.anaplan.com';
/** Anaplan's Integration API host; regional tenants use e.g. https://eu3.api.anaplan.com. */
export const DEFAULT_API_URL = 'https://api.anaplan.com';
/** Anaplan's page-size cap (and default) on every list endpoint. */
export const MAX_PAGE_SIZE = 5000;

/** A qualified-name segment: no slash, so `anaplan/<tenant>/...` stays unambiguous. */
const TenantSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]{1,128}$/,
    'must be 1 to 128 letters, digits, dots, dashes or underscores',
  );

/** The credential fields: those of one auth mode are required (see `authMode`). */
export const AnaplanCredentialsSchema = z
  .strictObject({
    user: secretValueSchema()
      .optional()
      .describe('Basic auth: the Anaplan user name, an email address (a secret reference).'),
    password: secretValueSchema()
      .optional()
      .describe('Basic auth: the Anaplan password (a secret reference).'),
    certificate: secretValueSchema()
      .optional()
      .describe('Certificate auth: the CA-issued X.509 certificate, PEM (a secret reference).'),
    privateKey: secretValueSchema()
      .optional()
      .describe(
        'Certificate auth: its RSA private key, PEM, optionally encrypted (a secret reference).',
      ),
    passphrase: secretValueSchema()
      .optional()
      .describe(
        'Certificate auth: the passphrase of an encrypted private key (a secret reference).',
      ),
  })
  .describe(
    'Basic: user and password. Certificate: certificate, privateKey and perhaps passphrase.',
  );

const REQUIRED_CREDENTIALS = {
  basic: ['user', 'password'],
  certificate: ['certificate', 'privateKey'],
} as const;

/** Settings of one Anaplan connection. Credentials are resolved secret references. */
export const AnaplanConfigSchema = z
  .strictObject({
    authUrl: sourceUrl(DEFAULT_AUTH_URL)
      .default(DEFAULT_AUTH_URL)
      .describe('Anaplan authentication origin, e.g. https://auth.anaplan.com or a regional one.'),
    apiUrl: sourceUrl(DEFAULT_API_URL)
      .default(DEFAULT_API_URL)
      .describe('Anaplan Integration API origin, e.g. https://api.anaplan.com or a regional one.'),
    tenant: TenantSchema.optional().describe(
      'Name of this Anaplan tenant in qualified names (anaplan/<tenant>/...); default: the host name of apiUrl.',
    ),
    authMode: z
      .enum(['basic', 'certificate'])
      .default('basic')
      .describe('basic (user and password) or certificate (CA-issued certificate and key).'),
    encodedDataFormat: z
      .enum(['v1', 'v2'])
      .default('v2')
      .describe(
        'Certificate auth: v2 prefixes the signed nonce with the time (Anaplan is making it mandatory); v1 signs a bare nonce.',
      ),
    credentials: AnaplanCredentialsSchema,
    pageSize: z
      .int()
      .min(1)
      .max(MAX_PAGE_SIZE)
      .default(MAX_PAGE_SIZE)
      .describe('Page size of the list endpoints (Anaplan caps it at 5000).'),
    modelTimeoutMs: z
      .int()
      .min(1_000)
      .max(6 * 3_600_000)
      .default(600_000)
      .describe(
        'Longest time one model (lists, versions, modules, views, line items) may take, in ms; a slower one is skipped with reason timeout and the run goes on.',
      ),
  })
  .superRefine((config, ctx) => {
    for (const key of REQUIRED_CREDENTIALS[config.authMode]) {
      if (config.credentials[key] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['credentials', key],
          message: `is required when authMode is ${config.authMode}`,
        });
      }
    }
  })
  .transform((config) => ({
    ...config,
    tenant: config.tenant ?? tenantFromHost(new URL(config.apiUrl).hostname),
  }));

function tenantFromHost(hostname: string): string {
  return hostname.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^-+|-+$/g, '') || 'anaplan';
}

/** A validated Anaplan connection. */
export type AnaplanConfig = z.output<typeof AnaplanConfigSchema>;

const ids = z.array(z.string().min(1).max(128)).max(10_000).default([]);

/** Params of discover and extract: which workspaces and models. */
export const AnaplanParamsSchema = z
  .strictObject({
    workspaceIds: ids.describe('Ids of the workspaces to extract; empty means every workspace.'),
    modelIds: ids.describe('Ids of the models to extract; empty means every model of them.'),
  })
  .prefault({});

/** Validated params of an Anaplan run. */
export type AnaplanParams = z.output<typeof AnaplanParamsSchema>;
