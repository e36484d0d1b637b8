import { defineConnector } from '../../agent/plugin-api/index.ts';
import type { CheckReport, DiscoveredResource } from '../../agent/plugin-api/index.ts';
import { CyeraClient } from './client.ts';
import { CyeraConfigSchema, CyeraCredentialsSchema, CyeraParamsSchema } from './config.ts';
import { extract } from './extract.ts';
import type { CyeraContext } from './extract.ts';
import { datastoreToResource } from './map.ts';
import { createDatastoreFilter } from './selection.ts';

/** Cyera DSPM: classification metadata of datastores, never the data itself. */
export const connector = defineConnector({
  name: 'cyera',
  version: '0.1.0',
  description:
    'Cyera DSPM: datastores, databases, schemas, tables and columns with their data classes, sensitivity and tokenization, plus issue and access summaries per database.',
  configSchema: CyeraConfigSchema,
  paramsSchema: CyeraParamsSchema,
  credentials: CyeraCredentialsSchema,
  endpoints: (config) => [{ role: 'api', url: config.baseUrl }],
  // api-eu.cyera.io is Cyera's EU host; other regional hosts are added by the operator.
  defaultHosts: ['api.cyera.io', 'api-eu.cyera.io'],
  // No published limit; Cyera answers 429 with Retry-After. Stay modest.
  defaultRateLimit: { requestsPerSecond: 5, burst: 10 },
  authCalls: [{ method: 'POST', path: '/v1/login' }],

  async check(ctx: CyeraContext): Promise<CheckReport> {
    const client = new CyeraClient(ctx);
    try {
      await client.login();
      const count = await client.countDatastores();
      return { summary: `logged in; ${count} datastores visible` };
    } finally {
      await client.close();
    }
  },

  async *discover(ctx: CyeraContext): AsyncGenerator<DiscoveredResource> {
    const keep = createDatastoreFilter(ctx.params);
    const client = new CyeraClient(ctx);
    try {
      for await (const datastore of client.datastores()) {
        if (keep(datastore)) {
          yield datastoreToResource(datastore);
        }
      }
    } finally {
      await client.close();
    }
  },

  read: extract,
});
