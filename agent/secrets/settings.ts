import { z } from 'zod';
import { MAX_MAX_AGE_SECONDS, MIN_MAX_AGE_SECONDS } from './ref.ts';

const seconds = (min: number, max: number, fallback: number): z.ZodDefault<z.ZodNumber> =>
  z.number().int().min(min).max(max).default(fallback);

/**
 * The `secrets` config section: how resolved secrets are cached and how hard the stores are
 * called. Defaults follow reference/secret-providers.md §7 (AWS caching clients, ESO).
 */
export const SecretsSettingsSchema = z
  .strictObject({
    softTtlSeconds: seconds(MIN_MAX_AGE_SECONDS, MAX_MAX_AGE_SECONDS, 300).describe(
      'How long a floating (latest) secret is served from memory before it is read again; ±10% jitter, refreshed in the background after 80%',
    ),
    hardTtlSeconds: seconds(MIN_MAX_AGE_SECONDS, 86_400, 3600).describe(
      'How long a cached value may still be served while its store fails transiently (stale-if-error); never after not found or denied',
    ),
    pinnedTtlSeconds: seconds(MIN_MAX_AGE_SECONDS, 7 * 86_400, 86_400).describe(
      'How long a pinned version (AWS uuid/…, Azure version id, GCP number, Vault version) is cached; pinned versions never change',
    ),
    negativeTtlSeconds: seconds(0, 3600, 30).describe(
      'How long "not found" and "access denied" answers are remembered, so a wrong reference does not hammer the store',
    ),
    maxEntries: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1024)
      .describe('Most cached secrets (least recently used are evicted and zero-filled)'),
    fetchTimeoutMs: z
      .number()
      .int()
      .min(10)
      .max(300_000)
      .default(15_000)
      .describe('Time limit of one read from a store; a slower read counts as unavailable'),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe('Reads tried per resolution while a store is unavailable, with jittered backoff'),
    retryBaseDelayMs: z
      .number()
      .int()
      .min(1)
      .max(60_000)
      .default(200)
      .describe('First backoff delay between reads; doubles per attempt, full jitter'),
    retryMaxDelayMs: z
      .number()
      .int()
      .min(1)
      .max(300_000)
      .default(10_000)
      .describe(
        'Longest wait between reads; a store asking to wait longer (Retry-After) fails the resolution and the run retries later',
      ),
    requestsPerSecond: z
      .number()
      .positive()
      .max(10_000)
      .default(50)
      .describe(
        'Reads per second per store profile (token bucket): a runaway loop cannot burn the quota shared with production',
      ),
  })
  .superRefine((settings, context) => {
    if (settings.hardTtlSeconds < settings.softTtlSeconds) {
      context.addIssue({
        code: 'custom',
        path: ['hardTtlSeconds'],
        message: `must be at least softTtlSeconds (${settings.softTtlSeconds})`,
      });
    }
    if (settings.retryMaxDelayMs < settings.retryBaseDelayMs) {
      context.addIssue({
        code: 'custom',
        path: ['retryMaxDelayMs'],
        message: `must be at least retryBaseDelayMs (${settings.retryBaseDelayMs})`,
      });
    }
  });

/** The parsed `secrets` section. */
export type SecretsSettings = z.output<typeof SecretsSettingsSchema>;
