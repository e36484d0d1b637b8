import { z } from 'zod';
import { flag, id, kindsOf, names, port, text } from './fields.ts';

// Schemas of what a Cyral control plane answers. They strip every field they do not name, so the
// secret-bearing ones (a user account's stored password, a logging integration's API key or
// token, a sidecar's certificate secret references, a service account's client secret) never
// enter the connector's objects, let alone an asset. Auth schemes and logging integrations are
// reduced to the *kind* of their configuration while parsing: their bodies are never kept.

/** The answer of `POST /v1/users/oidc/token` (a Keycloak token body). */
export const TokenResponseSchema = z.object({
  access_token: z.string().min(1).max(16_384),
  token_type: z.string().max(64).optional(),
  /** Seconds; some control planes send it as a string ("300"). */
  expires_in: z.coerce.number().positive().optional(),
  refresh_token: z.string().min(1).max(16_384).optional(),
  refresh_expires_in: z.coerce.number().nonnegative().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** `GET /v1/systemInfo`. */
export const SystemInfoSchema = z.object({
  controlPlaneVersion: text,
  sidecarLatestVersion: text,
});
export type SystemInfo = z.infer<typeof SystemInfoSchema>;

/** A sidecar (`GET /v1/sidecars` → `[{id, sidecar}]`); `certificateBundleSecrets` is dropped. */
export const SidecarSchema = z.object({
  name: z.string().max(1024),
  labels: names,
  properties: z.object({ deploymentMethod: text }).nullish(),
  services: z.object({ dispatcher: z.object({ bypass: text }).nullish() }).nullish(),
  userEndpoint: text,
});
export const SidecarListSchema = z.array(z.object({ id, sidecar: SidecarSchema })).max(100_000);
export type SidecarEntry = z.infer<typeof SidecarListSchema>[number];

/** `GET /v2/sidecars/{id}`: only its version is read. */
export const SidecarV2Schema = z.object({ sidecar: z.object({ version: text }) });

/** `GET /v2/sidecars/{id}/health`. */
export const SidecarHealthSchema = z.object({ status: text });

/** `GET /v2/sidecars/{id}/instances`: versions and statuses, no host details. */
export const SidecarInstancesSchema = z.object({
  instances: z
    .array(
      z.object({
        id,
        metadata: z.object({ version: text, isRecycling: flag, lastRegistration: text }).nullish(),
        monitoring: z.object({ status: text }).nullish(),
      }),
    )
    .max(10_000)
    .nullish(),
});
export type SidecarInstance = NonNullable<
  z.infer<typeof SidecarInstancesSchema>['instances']
>[number];

/** A listener of `GET /v1/sidecars/{id}/listeners`. */
export const ListenerSchema = z.object({
  id,
  repoTypes: names,
  address: z.object({ host: text, port }).nullish(),
});
export const ListenerListSchema = z.object({
  listenerConfigs: z.array(ListenerSchema).max(10_000).nullish(),
});
export type Listener = z.infer<typeof ListenerSchema>;

/** A binding, as `GET /v1/sidecars/{id}/bindings/{bindingId}` answers it (`{binding}`). */
export const BindingSchema = z.object({
  id,
  repoId: z.string().max(256).nullish(),
  enabled: flag,
  listenerBindings: z
    .array(z.object({ listenerId: z.string().max(256), nodeIndex: z.int().nullish() }))
    .max(1000)
    .nullish(),
});
export const BindingResponseSchema = z.object({ binding: BindingSchema });
export type Binding = z.infer<typeof BindingSchema>;

/** One page of `POST /v1/sidecars/{id}/composedBindings/filter` (a read). */
export const ComposedBindingsPageSchema = z.object({
  composedBindings: z.array(z.object({ binding: z.object({ id }) })).max(10_000),
  totalCount: z.int().nonnegative(),
});

/** A repository of `GET /v1/repos` (`{repos: [{id, repo}]}`). */
export const RepoSchema = z.object({
  name: z.string().max(1024),
  type: z.string().max(64),
  repoHost: text,
  repoPort: port,
  labels: names,
  repoNodes: z
    .array(z.object({ name: text, host: text, port, dynamic: flag }))
    .max(1000)
    .nullish(),
  mongoDbSettings: z
    .object({ replicaSetName: text, serverType: text, srvRecordName: text, flavor: text })
    .nullish(),
  redshiftSettings: z
    .object({ clusterIdentifier: text, workgroupName: text, awsRegion: text })
    .nullish(),
});
export const RepoListSchema = z.object({
  repos: z.array(z.object({ id, repo: RepoSchema })).max(1_000_000),
});
export type RepoEntry = z.infer<typeof RepoListSchema>['repos'][number];

/** `GET /v1/repos/{id}/conf/auth`. */
export const RepoAuthSchema = z.object({
  authInfo: z
    .object({
      allowNativeAuth: flag,
      clientTLS: text,
      identityProvider: text,
      repoTLS: text,
      authType: text,
    })
    .nullish(),
});

export type RepoAuth = NonNullable<z.infer<typeof RepoAuthSchema>['authInfo']>;

/** `GET /v1/repos/{id}/conf/analysis`. */
export const RepoAnalysisSchema = z.object({
  userConfig: z
    .object({
      alertOnViolation: flag,
      blockOnViolation: flag,
      disableFilterAnalysis: flag,
      disablePreConfiguredAlerts: flag,
      enableDataMasking: flag,
      maskAllOccurrences: flag,
      redact: text,
      enableDatasetRewrites: flag,
      logGroups: names,
    })
    .nullish(),
});

export type RepoAnalysis = NonNullable<z.infer<typeof RepoAnalysisSchema>['userConfig']>;

/** `GET /v1/repos/{id}/networkAccessPolicy`: the rules' names and counts, not the IPs. */
export const NetworkAccessPolicySchema = z.object({
  enabled: flag,
  networkAccessRules: z
    .object({
      rulesBlockAccess: flag,
      rules: z
        .array(
          z.object({
            id,
            name: text,
            dbAccounts: names,
            sourceIPs: names.transform((ips) => ips?.length ?? 0),
          }),
        )
        .max(10_000)
        .nullish(),
    })
    .nullish(),
});
export type NetworkAccessPolicy = z.infer<typeof NetworkAccessPolicySchema>;

/** `GET /v1/repos/{id}/accessGateway`. */
export const AccessGatewaySchema = z.object({
  accessGateway: z.object({ sidecarId: text, bindingId: text }).nullish(),
});
export type AccessGateway = NonNullable<z.infer<typeof AccessGatewaySchema>['accessGateway']>;

/** `GET /v1/repos/{id}/datamap`: label → `schema.table.column` locations. */
export const DataMapSchema = z.object({
  labels: z
    .record(
      z.string().min(1).max(256),
      z.object({ attributes: z.array(z.string().min(1).max(4096)).max(1_000_000).nullish() }),
    )
    .nullish(),
});
export type DataMap = z.infer<typeof DataMapSchema>;

/** A user account: its auth scheme becomes the list of its kinds (no path, ARN or password). */
export const UserAccountSchema = z.object({
  userAccountID: id,
  name: z.string().max(1024),
  authDatabaseName: text,
  authScheme: kindsOf(),
  config: z
    .object({
      approvalConfig: z.object({ automaticGrant: flag, maxAutomaticGrantDuration: text }).nullish(),
    })
    .nullish(),
});
export const UserAccountListSchema = z.object({
  userAccounts: z.array(UserAccountSchema).max(100_000),
});
export type UserAccount = z.infer<typeof UserAccountSchema>;

/** `GET /v1/repos/{id}/userAccounts/{accountId}/accessRules`. */
export const AccessRuleListSchema = z.object({
  accessRules: z
    .array(
      z.object({
        identity: z.object({ type: z.string().max(64), name: z.string().max(1024) }),
        validFrom: text,
        validUntil: text,
        config: z.object({ authorizationPolicyInstanceIDs: names }).nullish(),
      }),
    )
    .max(100_000)
    .nullish(),
});
export type AccessRule = NonNullable<z.infer<typeof AccessRuleListSchema>['accessRules']>[number];
