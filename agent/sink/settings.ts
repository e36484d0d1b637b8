import { z } from 'zod';
import { HttpRetrySettingsSchema } from '../http/settings.ts';
import { urlRefinement } from '../plugin-api/index.ts';

const MIB = 1024 * 1024;
const SECRET_REF_PATTERN = /^[a-z][a-z0-9-]*:\/\/.+/;

/**
 * How assets are cut into batches. Shared by the catalog sink and the directory sink
 * (`perimeter run --output`), so a dry run writes the very batches a push would send.
 */
export const BatchingSettingsSchema = z.strictObject({
  batchMaxAssets: z.int().min(1).max(100_000).default(1000).describe('Most assets in one batch.'),
  batchMaxBytes: z
    .int()
    .min(1024)
    .max(256 * MIB)
    .default(4 * MIB)
    .describe('Most uncompressed NDJSON bytes in one batch; a larger single asset fails the run.'),
  checkpointMinAssets: z
    .int()
    .min(1)
    .default(250)
    .describe(
      'A connector checkpoint ends the batch being filled only when it holds at least this many assets (capped at batchMaxAssets) or more than half of batchMaxBytes; smaller checkpoints are skipped.',
    ),
  maxInFlightBatches: z
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe('Batches sent but not yet acknowledged; the connector waits while this many are.'),
});

/** The batching part of the settings, after defaults. */
export type BatchingSettings = z.output<typeof BatchingSettingsSchema>;

/** The `catalog` section: where and how metadata is pushed (DESIGN §5). */
export const CatalogSettingsSchema = BatchingSettingsSchema.extend({
  url: z
    .string()
    .superRefine(
      urlRefinement({ example: 'https://catalog.example.com', credentialKey: 'catalog.token' }),
    )
    .transform((url) => url.replace(/\/+$/, ''))
    .describe(
      'Base URL of the catalog, e.g. https://catalog.example.com; batches go to {url}/v1/runs/{runId}/batches.',
    ),
  token: z
    .string()
    .regex(
      SECRET_REF_PATTERN,
      'must be a secret reference (scheme://locator, e.g. file:///var/run/secrets/catalog/token), never the token itself',
    )
    .optional()
    .describe('Secret reference of the bearer token; no Authorization header is sent when absent.'),
  retry: HttpRetrySettingsSchema.extend({
    maxAttempts: z
      .int()
      .min(1)
      .max(100)
      .default(8)
      .describe('Attempts per batch on 408, 429, 5xx and network errors before the run fails.'),
  })
    .prefault({})
    .describe('Retries of batch posts: jittered exponential backoff that honours Retry-After.'),
  gzipLevel: z
    .int()
    .min(0)
    .max(9)
    .default(1)
    .describe(
      'gzip level of batch bodies: 1 is fastest, 9 smallest. At 1, Cyera metadata shrinks about 22×, at 6 about 31× for 2.5× the CPU (docs/performance.md).',
    ),
}).describe('The catalog metadata is pushed to.');

/** The parsed `catalog` section. */
export type CatalogSettings = z.output<typeof CatalogSettingsSchema>;
