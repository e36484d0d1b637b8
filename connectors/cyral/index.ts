import { defineConnector } from '../../agent/plugin-api/index.ts';
import type { CheckReport, DiscoveredResource } from '../../agent/plugin-api/index.ts';
import { CyralClient } from './client.ts';
import { CyralConfigSchema, CyralCredentialsSchema, CyralParamsSchema } from './config.ts';
import { extract } from './extract.ts';
import { repositoryToResource, sidecarToResource } from './map.ts';
import { READ_PATHS, READS } from './reads.ts';
import type { CyralContext } from './scope.ts';

/** Cyral: what protects which repository, and which labels and rules govern it. */
export const connector = defineConnector({
  name: 'cyral',
  version: '0.1.0',
  description:
    'Cyral control plane: sidecars, listeners and bindings, repositories with their settings and data maps (schemas, tables and columns tagged with data labels), user accounts and access rules, data labels, policies, roles with SSO groups, and integrations by name and type.',
  configSchema: CyralConfigSchema,
  paramsSchema: CyralParamsSchema,
  credentials: CyralCredentialsSchema,
  endpoints: (config) => [{ role: 'api', url: config.baseUrl }],
  // Cyral has no fixed host: each control plane is the customer's own, listed by the operator.
  defaultHosts: [],
  // The control plane is the customer's own and documents no limit; spare it all the same.
  defaultRateLimit: { requestsPerSecond: 10, burst: 20 },
  authCalls: [
    { method: 'POST', path: '/v1/users/oidc/token' },
    // Not an auth call: the one paginated read, which Cyral serves as a POST with an empty body.
    { method: 'POST', path: '/v1/sidecars/*/composedBindings/filter' },
  ],
  // Every GET it makes; any other (audit logs, access tokens) is refused before a socket opens.
  readPaths: READ_PATHS,

  async check(ctx: CyralContext): Promise<CheckReport> {
    const client = new CyralClient(ctx);
    try {
      await client.login();
      const { repos } = await client.read(READS.repos.at());
      return { summary: `token obtained; ${repos.length} repositories visible` };
    } finally {
      await client.close();
    }
  },

  async *discover(ctx: CyralContext): AsyncGenerator<DiscoveredResource> {
    const client = new CyralClient(ctx);
    try {
      const [{ repos }, sidecars] = await Promise.all([
        client.read(READS.repos.at()),
        client.read(READS.sidecars.at()),
      ]);
      for (const entry of repos) {
        yield repositoryToResource(entry);
      }
      for (const entry of sidecars) {
        yield sidecarToResource(entry);
      }
    } finally {
      await client.close();
    }
  },

  read: (ctx: CyralContext) => extract(ctx),
});
