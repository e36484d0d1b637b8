import type { z } from 'zod';
import { segment } from './client.ts';
import type { ReadRequest } from './client.ts';
import {
  AccessGatewaySchema,
  AccessRuleListSchema,
  BindingResponseSchema,
  DataMapSchema,
  ListenerListSchema,
  NetworkAccessPolicySchema,
  RepoAnalysisSchema,
  RepoAuthSchema,
  RepoListSchema,
  SidecarHealthSchema,
  SidecarInstancesSchema,
  SidecarListSchema,
  SidecarV2Schema,
  SystemInfoSchema,
  UserAccountListSchema,
} from './records.ts';
import {
  DataLabelListSchema,
  LegacyPolicySchema,
  LoggingIntegrationListSchema,
  PermissionListSchema,
  PolicyIdListSchema,
  PolicyV2ListSchema,
  RoleListSchema,
  SsoIntegrationListSchema,
} from './records-governance.ts';

// Every GET the connector makes, with the endpoint's name as errors and logs show it (a
// template: ids never appear in it) and the schema of its answer. Nothing else is read.

/** A GET endpoint: its name (a template, ids in braces) and the schema of its answer. */
export interface ReadEndpoint<T> {
  readonly name: string;
  /** The request for the object(s) the ids name, in the order of the template's braces. */
  at(...ids: readonly string[]): ReadRequest<T>;
}

function get<T>(template: string, schema: z.ZodType<T>): ReadEndpoint<T> {
  const name = `GET ${template}`;
  return {
    name,
    at: (...ids) => {
      let next = 0;
      const path = template.replace(/\{[^}]+\}/g, () => segment(ids[next++] ?? ''));
      return { endpoint: name, path, schema };
    },
  };
}

export const READS = {
  systemInfo: get('/v1/systemInfo', SystemInfoSchema),
  sidecars: get('/v1/sidecars', SidecarListSchema),
  sidecarV2: get('/v2/sidecars/{id}', SidecarV2Schema),
  sidecarHealth: get('/v2/sidecars/{id}/health', SidecarHealthSchema),
  sidecarInstances: get('/v2/sidecars/{id}/instances', SidecarInstancesSchema),
  listeners: get('/v1/sidecars/{id}/listeners', ListenerListSchema),
  binding: get('/v1/sidecars/{id}/bindings/{bindingId}', BindingResponseSchema),
  repos: get('/v1/repos', RepoListSchema),
  repoAuth: get('/v1/repos/{id}/conf/auth', RepoAuthSchema),
  repoAnalysis: get('/v1/repos/{id}/conf/analysis', RepoAnalysisSchema),
  networkAccessPolicy: get('/v1/repos/{id}/networkAccessPolicy', NetworkAccessPolicySchema),
  accessGateway: get('/v1/repos/{id}/accessGateway', AccessGatewaySchema),
  dataMap: get('/v1/repos/{id}/datamap', DataMapSchema),
  userAccounts: get('/v1/repos/{id}/userAccounts', UserAccountListSchema),
  accessRules: get('/v1/repos/{id}/userAccounts/{accountId}/accessRules', AccessRuleListSchema),
  dataLabels: get('/v1/datalabels', DataLabelListSchema),
  legacyPolicyIds: get('/v1/policies', PolicyIdListSchema),
  legacyPolicy: get('/v1/policies/{id}', LegacyPolicySchema),
  policiesV2: get('/v2/policies/{type}', PolicyV2ListSchema),
  permissions: get('/v1/users/roles', PermissionListSchema),
  roles: get('/v1/users/groups', RoleListSchema),
  loggingIntegrations: get('/v1/integrations/logging', LoggingIntegrationListSchema),
  ssoIntegrations: get('/v1/integrations/generic-saml/sso', SsoIntegrationListSchema),
};

/** The kinds of v2 policies, each listed where the control plane serves it. */
export const POLICY_V2_TYPES = ['local', 'global', 'approval'] as const;

/**
 * The paths the connector reads, as the destination policy matches them (`*` for one segment):
 * every other GET (audit logs, access tokens) is refused before a socket opens.
 */
export const READ_PATHS: readonly string[] = Object.values(READS).map((read) =>
  read.name.replace(/^GET /, '').replace(/\{[^}]+\}/g, '*'),
);
