import { defineConnector } from '../../agent/plugin-api/index.ts';
import type { CheckReport, DiscoveredResource } from '../../agent/plugin-api/index.ts';
import { AUTH_ENDPOINTS } from './auth.ts';
import { AnaplanClient, READ_PATHS } from './client.ts';
import { AnaplanConfigSchema, AnaplanCredentialsSchema, AnaplanParamsSchema } from './config.ts';
import { extract, select } from './extract.ts';
import type { AnaplanContext } from './extract.ts';
import { modelToResource, workspaceToResource } from './map.ts';

/** Anaplan: the structure of workspaces and models, never the data in them. */
export const connector = defineConnector({
  name: 'anaplan',
  version: '0.1.0',
  description:
    'Anaplan: workspaces and models with their modules, line items, lists, dimensions, versions, time settings and views, and how they relate; never the planning data.',
  configSchema: AnaplanConfigSchema,
  paramsSchema: AnaplanParamsSchema,
  credentials: AnaplanCredentialsSchema,
  endpoints: (config) => [
    { role: 'auth', url: config.authUrl },
    { role: 'api', url: config.apiUrl },
  ],
  // Regional hosts (eu3.auth.anaplan.com, eu3.api.anaplan.com, …) are added by the operator.
  defaultHosts: ['auth.anaplan.com', 'api.anaplan.com'],
  // Anaplan limits a tenant to about 600 requests/min (10/s refill); stay under it.
  defaultRateLimit: { requestsPerSecond: 8, burst: 20 },
  authCalls: Object.values(AUTH_ENDPOINTS).map((endpoint) => ({
    method: 'POST' as const,
    path: endpoint.slice('POST '.length),
  })),
  readPaths: READ_PATHS,

  async check(ctx: AnaplanContext): Promise<CheckReport> {
    const client = new AnaplanClient(ctx);
    try {
      await client.login();
      let workspaces = 0;
      for await (const _ of client.workspaces()) workspaces += 1;
      return { summary: `logged in (${ctx.config.authMode}); ${workspaces} workspaces visible` };
    } finally {
      await client.close();
    }
  },

  async *discover(ctx: AnaplanContext): AsyncGenerator<DiscoveredResource> {
    const client = new AnaplanClient(ctx);
    try {
      for (const { workspace, models } of await select(client, ctx.params, ctx.logger)) {
        yield workspaceToResource(workspace);
        yield* models.map(modelToResource);
      }
    } finally {
      await client.close();
    }
  },

  read: extract,
});
