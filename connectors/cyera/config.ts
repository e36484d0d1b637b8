import { z } from 'zod';
import { secretValueSchema, sourceUrl } from '../../agent/plugin-api/index.ts';

/** Cyera's public API host; regional tenants use their own host (see README). */
export const DEFAULT_BASE_URL = 'https://api.cyera.io';

/** A qualified-name segment: no slash, so `cyera/<tenant>/...` stays unambiguous. */
const TenantSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]{1,128}$/,
    'must be 1 to 128 letters, digits, dots, dashes or underscores',
  );

/** The API key pair; each field a secret reference in a job file. */
export const CyeraCredentialsSchema = z
  .strictObject({
    clientId: secretValueSchema().describe('Cyera API client id (a secret reference).'),
    secret: secretValueSchema().describe('Cyera API client secret (a secret reference).'),
  })
  .describe('The API key pair created in Cyera under Settings → API keys.');

const PageSizesSchema = z
  .strictObject({
    datastores: z
      .int()
      .min(1)
      .max(1000)
      .default(1000)
      .describe('Page size of GET /v2/datastores (Cyera caps it at 1000).'),
    issues: z
      .int()
      .min(1)
      .max(100)
      .default(100)
      .describe('Page size of GET /v3/issues (Cyera caps it at 100).'),
    identities: z
      .int()
      .min(1)
      .max(100)
      .default(100)
      .describe('Page size of GET /v1/datastores/{uid}/identities (capped at 100).'),
  })
  .describe('Page sizes of the paginated endpoints.');

const StreamSchema = z
  .strictObject({
    maxRetries: z
      .int()
      .min(0)
      .max(20)
      .default(5)
      .describe(
        'Re-openings of GET /v1/tables/stream after consecutive interruptions (dropped connection, 429, 5xx) without progress.',
      ),
    retryDelayMs: z
      .int()
      .min(1)
      .max(60_000)
      .default(1000)
      .describe(
        'Ceiling of the first backoff before re-opening an interrupted stream, in ms; doubles per try (full jitter).',
      ),
    maxRetryDelayMs: z
      .int()
      .min(1)
      .max(300_000)
      .default(30_000)
      .describe('Longest backoff before re-opening an interrupted stream, in ms.'),
  })
  .describe('How an interrupted table stream is resumed.');

/** Settings of one Cyera connection. Credentials are resolved secret references. */
export const CyeraConfigSchema = z
  .strictObject({
    baseUrl: sourceUrl(DEFAULT_BASE_URL)
      .default(DEFAULT_BASE_URL)
      .describe(
        'Cyera API base URL, e.g. https://api.cyera.io (http only for a loopback simulator).',
      ),
    tenant: TenantSchema.optional().describe(
      'Name of this Cyera tenant in qualified names (cyera/<tenant>/...); default: the host name of baseUrl.',
    ),
    credentials: CyeraCredentialsSchema,
    pageSizes: PageSizesSchema.prefault({}),
    stream: StreamSchema.prefault({}),
    checkpointEveryAssets: z
      .int()
      .min(1)
      .max(1_000_000)
      .default(5000)
      .describe(
        'Offer a checkpoint inside a datastore after this many assets (the sink commits those that fall on a batch boundary); one also follows each datastore.',
      ),
  })
  .transform((config) => ({
    ...config,
    tenant: config.tenant ?? tenantFromHost(new URL(config.baseUrl).hostname),
  }));

/** The default tenant name: the API host, made a valid qualified-name segment. */
function tenantFromHost(hostname: string): string {
  return hostname.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^-+|-+$/g, '') || 'cyera';
}

/** A validated Cyera connection. */
export type CyeraConfig = z.output<typeof CyeraConfigSchema>;

const FilterSchema = z.string().trim().min(1).max(256);

/** Params of discover and extract: which datastores. */
export const CyeraParamsSchema = z
  .strictObject({
    datastoreUids: z
      .array(z.string().min(1).max(128))
      .max(10_000)
      .default([])
      .describe('Uids of the datastores to extract; empty means every datastore the filters keep.'),
    provider: FilterSchema.optional().describe(
      'Keep only datastores of this provider, e.g. Snowflake or AWS (case-insensitive).',
    ),
    type: FilterSchema.optional().describe(
      'Keep only datastores of this type, e.g. SNOWFLAKE_DATABASE (case-insensitive).',
    ),
    namePattern: FilterSchema.optional().describe(
      'Keep only datastores whose name matches this glob (`*`, `?`; case-insensitive).',
    ),
  })
  .prefault({});

/** Validated params of a Cyera run. */
export type CyeraParams = z.output<typeof CyeraParamsSchema>;
