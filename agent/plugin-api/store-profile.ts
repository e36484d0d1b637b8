import { z } from 'zod';
import { isLoopbackHost } from './url.ts';

/**
 * Schema pieces shared by the secret stores' profile schemas, so that the same setting reads,
 * validates and is documented the same way in every store.
 */

/**
 * A store credential (static key, client secret, AppRole secret id, token): a secret reference
 * resolved through another profile, never a literal in the config. `example` shows the usual
 * reference for it in the message an operator reads.
 */
export function credentialRefSchema(example: string): z.ZodString {
  return z
    .string()
    .regex(
      /^[a-z][a-z0-9+.-]*:\/\/\S+$/,
      `must be a secret reference (scheme://locator, e.g. ${example}), never a literal credential`,
    );
}

/**
 * The URL of a store's endpoint: https, or plain http to a loopback address only (a local fake
 * or sidecar), because store calls carry bearer tokens and signed headers.
 */
export function storeUrlSchema(): z.ZodType<string> {
  return z.url({ protocol: /^https?$/ }).refine(
    // The refinement runs even when the URL check failed: URL.parse, not new URL (which throws).
    (raw) => {
      const url = URL.parse(raw);
      return url === null || url.protocol === 'https:' || isLoopbackHost(url.hostname);
    },
    'must be an https:// URL (plain http only to a loopback address, e.g. a local fake)',
  );
}

/** Timeout of one HTTP request of a store (connect and response), in milliseconds. */
export function requestTimeoutMsSchema(): z.ZodDefault<z.ZodNumber> {
  return z
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(10_000)
    .describe('Timeout of one HTTP request to the store (connect and response), in milliseconds.');
}

/** An optional PEM bundle of extra CAs for one profile, mounted from a ConfigMap or Secret. */
export function caFileSchema(): z.ZodOptional<z.ZodString> {
  return z
    .string()
    .startsWith('/', 'must be an absolute path')
    .optional()
    .describe(
      "PEM file of extra CAs trusted for this profile's calls (a private CA, TLS inspection), on top of the system roots and http.caFile.",
    );
}
