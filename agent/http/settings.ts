import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PerimeterError, coerceError } from '../plugin-api/index.ts';

const MIB = 1024 * 1024;

const positiveInt = (fallback: number): z.ZodDefault<z.ZodNumber> =>
  z.number().int().positive().default(fallback);

const proxyUrl = z
  .string()
  .refine(isHttpUrl, 'must be an http:// or https:// URL, e.g. http://proxy.corp:3128');

/** Retry policy of idempotent requests (and of those that opt in, like the sink's batches). */
export const HttpRetrySettingsSchema = z.strictObject({
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(5)
    .describe('Attempts per request, the first included; 1 disables retries.'),
  baseDelayMs: positiveInt(500).describe('Backoff before the second attempt; doubles each time.'),
  maxDelayMs: positiveInt(30_000).describe('Upper bound of one backoff wait.'),
  maxRetryAfterMs: positiveInt(60_000).describe(
    'Longest Retry-After honoured in place; longer ones end the request and the queue reschedules.',
  ),
});

/** The `http` section: proxy, extra CA bundle, timeouts, size caps and retries. */
export const HttpSettingsSchema = z.strictObject({
  httpsProxy: proxyUrl
    .optional()
    .describe('Proxy for https:// requests (tunnelled with CONNECT); HTTPS_PROXY sets it.'),
  httpProxy: proxyUrl
    .optional()
    .describe('Proxy for http:// requests, and for https:// when httpsProxy is unset; HTTP_PROXY.'),
  noProxy: z
    .string()
    .optional()
    .describe(
      'Comma-separated hosts reached directly (host, .domain, *.domain, host:port); NO_PROXY.',
    ),
  caFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      "PEM bundle (e.g. a TLS-inspecting proxy's CA) trusted together with Node's roots and NODE_EXTRA_CA_CERTS.",
    ),
  connectTimeoutMs: positiveInt(10_000).describe('Longest wait for a TCP and TLS connection.'),
  headersTimeoutMs: positiveInt(30_000).describe('Longest wait for response headers.'),
  bodyTimeoutMs: positiveInt(60_000).describe('Longest silence between two chunks of a body.'),
  maxResponseBytes: positiveInt(64 * MIB).describe('Size cap of a body read whole (json, text).'),
  maxLineBytes: positiveInt(16 * MIB).describe('Size cap of one line of a streamed body.'),
  maxRedirects: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(5)
    .describe('Redirects followed for GET and HEAD, each checked against the policy.'),
  retry: HttpRetrySettingsSchema.prefault({}).describe(
    'Retries of network errors, 408, 429 and 5xx with jittered exponential backoff.',
  ),
});

/** The parsed `http` section. */
export type HttpSettings = z.output<typeof HttpSettingsSchema>;

/** The parsed `http.retry` section. */
export type HttpRetrySettings = z.output<typeof HttpRetrySettingsSchema>;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads the extra CA bundle named by `http.caFile` and returns its certificates as PEM. Throws
 * CONFIG_INVALID when the file cannot be read or holds no valid certificate, so a wrong mount
 * is reported at startup rather than as TLS_UNTRUSTED on the first request.
 */
export function readCaBundle(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (coerceError(error) as NodeJS.ErrnoException).code ?? 'unknown error';
    throw caProblem(path, `cannot be read (${code}); check the path and the mount`, error);
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw caProblem(path, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw caProblem(path, `certificate #${index + 1} does not parse as X.509`, error);
    }
  });
  return `${blocks.join('\n')}\n`;
}

function caProblem(path: string, problem: string, cause?: unknown): PerimeterError {
  return new PerimeterError('CONFIG_INVALID', `http.caFile: ${path} ${problem}.`, {
    cause,
    context: { path: 'http.caFile', file: path },
  });
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) {
    return false;
  }
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}
