// A child process for trust tests: NODE_EXTRA_CA_CERTS is only read when Node starts.
// Usage: node trust-child.ts <settings JSON> <url>... ; prints one JSON line per URL.
import { createHttpClient } from '../../agent/http/client.ts';
import { HttpSettingsSchema, readCaBundle } from '../../agent/http/settings.ts';
import { captureLogs } from './capture-logs.ts';

const [settingsJson = '{}', ...urls] = process.argv.slice(2);
const settings = HttpSettingsSchema.parse({
  ...JSON.parse(settingsJson),
  retry: { maxAttempts: 1 },
});
const logs = captureLogs();
const client = createHttpClient({
  policy: { allowedHosts: urls.map((url) => new URL(url).host), allowedCalls: [] },
  settings,
  redactor: logs.redactor,
  logger: logs.logger,
  errorDomain: 'source',
  userAgent: 'perimeter/test',
  ...(settings.caFile === undefined ? {} : { extraCaPem: readCaBundle(settings.caFile) }),
  nodeExtraCaCerts: process.env['NODE_EXTRA_CA_CERTS'],
});
for (const url of urls) {
  try {
    const response = await client.request({
      method: 'GET',
      url,
      signal: AbortSignal.timeout(10_000),
    });
    await response.text();
    process.stdout.write(`${JSON.stringify({ url, status: response.status })}\n`);
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    process.stdout.write(`${JSON.stringify({ url, code, message })}\n`);
  }
}
await client.close();
