import { segment } from './client.ts';
import type { ReadRequest } from './client.ts';
import {
  AccessGatewaySchema,
  AccessRuleListSchema,
  BindingResponseSchema,
  DataLabelListSchema,
  DataMapSchema,
  LegacyPolicySchema,
  ListenerListSchema,
  LoggingIntegrationListSchema,
  NetworkAccessPolicySchema,
  PermissionListSchema,
  PolicyIdListSchema,
  PolicyV2ListSchema,
  RepoAnalysisSchema,
  RepoAuthSchema,
  RepoListSchema,
  RoleListSchema,
  SidecarHealthSchema,
  SidecarInstancesSchema,
  SidecarListSchema,
  SidecarV2Schema,
  SsoIntegrationListSchema,
  SystemInfoSchema,
  UserAccountListSchema,
} from './records.ts';

// Every GET the connector makes, with the endpoint's name as errors and logs show it (a
// template: ids never appear in it) and the schema of its answer. Nothing else is read.

const read = <T>(
  endpoint: string,
  path: string,
  schema: ReadRequest<T>['schema'],
): ReadRequest<T> => ({
  endpoint: `GET ${endpoint}`,
  path,
  schema,
});

export const READS = {
  systemInfo: () => read('/v1/systemInfo', '/v1/systemInfo', SystemInfoSchema),
  sidecars: () => read('/v1/sidecars', '/v1/sidecars', SidecarListSchema),
  sidecarV2: (id: string) =>
    read('/v2/sidecars/{id}', `/v2/sidecars/${segment(id)}`, SidecarV2Schema),
  sidecarHealth: (id: string) =>
    read('/v2/sidecars/{id}/health', `/v2/sidecars/${segment(id)}/health`, SidecarHealthSchema),
  sidecarInstances: (id: string) =>
    read(
      '/v2/sidecars/{id}/instances',
      `/v2/sidecars/${segment(id)}/instances`,
      SidecarInstancesSchema,
    ),
  listeners: (id: string) =>
    read(
      '/v1/sidecars/{id}/listeners',
      `/v1/sidecars/${segment(id)}/listeners`,
      ListenerListSchema,
    ),
  binding: (sidecarId: string, bindingId: string) =>
    read(
      '/v1/sidecars/{id}/bindings/{bindingId}',
      `/v1/sidecars/${segment(sidecarId)}/bindings/${segment(bindingId)}`,
      BindingResponseSchema,
    ),
  repos: () => read('/v1/repos', '/v1/repos', RepoListSchema),
  repoAuth: (id: string) =>
    read('/v1/repos/{id}/conf/auth', `/v1/repos/${segment(id)}/conf/auth`, RepoAuthSchema),
  repoAnalysis: (id: string) =>
    read(
      '/v1/repos/{id}/conf/analysis',
      `/v1/repos/${segment(id)}/conf/analysis`,
      RepoAnalysisSchema,
    ),
  networkAccessPolicy: (id: string) =>
    read(
      '/v1/repos/{id}/networkAccessPolicy',
      `/v1/repos/${segment(id)}/networkAccessPolicy`,
      NetworkAccessPolicySchema,
    ),
  accessGateway: (id: string) =>
    read(
      '/v1/repos/{id}/accessGateway',
      `/v1/repos/${segment(id)}/accessGateway`,
      AccessGatewaySchema,
    ),
  dataMap: (id: string) =>
    read('/v1/repos/{id}/datamap', `/v1/repos/${segment(id)}/datamap`, DataMapSchema),
  userAccounts: (id: string) =>
    read(
      '/v1/repos/{id}/userAccounts',
      `/v1/repos/${segment(id)}/userAccounts`,
      UserAccountListSchema,
    ),
  accessRules: (repoId: string, accountId: string) =>
    read(
      '/v1/repos/{id}/userAccounts/{accountId}/accessRules',
      `/v1/repos/${segment(repoId)}/userAccounts/${segment(accountId)}/accessRules`,
      AccessRuleListSchema,
    ),
  dataLabels: () => read('/v1/datalabels', '/v1/datalabels', DataLabelListSchema),
  legacyPolicyIds: () => read('/v1/policies', '/v1/policies', PolicyIdListSchema),
  legacyPolicy: (id: string) =>
    read('/v1/policies/{id}', `/v1/policies/${segment(id)}`, LegacyPolicySchema),
  policiesV2: (type: string) =>
    read(`/v2/policies/${type}`, `/v2/policies/${segment(type)}`, PolicyV2ListSchema),
  permissions: () => read('/v1/users/roles', '/v1/users/roles', PermissionListSchema),
  roles: () => read('/v1/users/groups', '/v1/users/groups', RoleListSchema),
  loggingIntegrations: () =>
    read('/v1/integrations/logging', '/v1/integrations/logging', LoggingIntegrationListSchema),
  ssoIntegrations: () =>
    read(
      '/v1/integrations/generic-saml/sso',
      '/v1/integrations/generic-saml/sso',
      SsoIntegrationListSchema,
    ),
};

/** The kinds of v2 policies, each listed where the control plane serves it. */
export const POLICY_V2_TYPES = ['local', 'global', 'approval'] as const;
