import type {
  Asset,
  DiscoveredResource,
  JsonObject,
  Relationship,
} from '../../agent/plugin-api/index.ts';
import { CYRAL_TYPES, compact, qn, withRelationships } from './names.ts';
import type {
  AccessGateway,
  AccessRule,
  Binding,
  Listener,
  NetworkAccessPolicy,
  RepoAnalysis,
  RepoAuth,
  RepoEntry,
  SidecarEntry,
  SidecarInstance,
  SystemInfo,
  UserAccount,
} from './records.ts';

// Pure record → asset functions for the control plane, its sidecars and its repositories. No
// I/O, no clock: the same records always give the same assets.

/** The control plane: the root every other asset hangs from. */
export function controlPlaneToAsset(tenant: string, host: string, info: SystemInfo): Asset {
  return {
    typeName: CYRAL_TYPES.controlPlane,
    qualifiedName: qn.controlPlane(tenant),
    name: host,
    attributes: compact({
      host,
      controlPlaneVersion: info.controlPlaneVersion,
      sidecarLatestVersion: info.sidecarLatestVersion,
    }),
  };
}

/** What is read about a sidecar besides its listing entry. */
export interface SidecarDetails {
  readonly version: string | null | undefined;
  readonly health: string | null | undefined;
  readonly instances: readonly SidecarInstance[];
  readonly bindingCount: number;
}

/** A sidecar with its version, health and instances (versions and statuses only). */
export function sidecarToAsset(
  tenant: string,
  entry: SidecarEntry,
  details: SidecarDetails,
): Asset {
  const { sidecar } = entry;
  return {
    typeName: CYRAL_TYPES.sidecar,
    qualifiedName: qn.sidecar(tenant, entry.id),
    name: sidecar.name,
    parentQualifiedName: qn.controlPlane(tenant),
    attributes: compact({
      id: entry.id,
      labels: sidecar.labels,
      deploymentMethod: sidecar.properties?.deploymentMethod,
      dispatcherBypass: sidecar.services?.dispatcher?.bypass,
      userEndpoint: sidecar.userEndpoint,
      version: details.version,
      health: details.health,
      instanceCount: details.instances.length,
      instances: details.instances.map((instance) =>
        compact({
          id: instance.id,
          version: instance.metadata?.version,
          status: instance.monitoring?.status,
          isRecycling: instance.metadata?.isRecycling,
          lastRegistration: instance.metadata?.lastRegistration,
        }),
      ),
      bindingCount: details.bindingCount,
    }),
  };
}

/** A listener of a sidecar: the repository types and port it serves. */
export function listenerToAsset(tenant: string, sidecarId: string, listener: Listener): Asset {
  const port = listener.address?.port;
  return {
    typeName: CYRAL_TYPES.listener,
    qualifiedName: qn.listener(tenant, sidecarId, listener.id),
    name: port == null ? listener.id : `${listener.address?.host ?? ''}:${port}`,
    parentQualifiedName: qn.sidecar(tenant, sidecarId),
    attributes: compact({
      id: listener.id,
      sidecarId,
      repoTypes: listener.repoTypes,
      host: listener.address?.host === '' ? undefined : listener.address?.host,
      port,
    }),
  };
}

/**
 * A binding of a repository to a sidecar's listeners. It links to the repository only when that
 * repository is extracted in the same run (`knownRepoIds`), so no link dangles.
 */
export function bindingToAsset(
  tenant: string,
  sidecarId: string,
  binding: Binding,
  knownRepoIds: ReadonlySet<string>,
): Asset {
  const listenerIds = [...new Set((binding.listenerBindings ?? []).map((l) => l.listenerId))];
  const relationships: Relationship[] = listenerIds.map((listenerId) => ({
    typeName: 'CyralBindingListener',
    targetQualifiedName: qn.listener(tenant, sidecarId, listenerId),
  }));
  if (binding.repoId != null && knownRepoIds.has(binding.repoId)) {
    relationships.unshift({
      typeName: 'CyralBindingRepository',
      targetQualifiedName: qn.repository(tenant, binding.repoId),
    });
  }
  return withRelationships(
    {
      typeName: CYRAL_TYPES.binding,
      qualifiedName: qn.binding(tenant, sidecarId, binding.id),
      name: binding.id,
      parentQualifiedName: qn.sidecar(tenant, sidecarId),
      attributes: compact({
        id: binding.id,
        sidecarId,
        repoId: binding.repoId,
        enabled: binding.enabled,
        listenerBindings: (binding.listenerBindings ?? []).map((l) =>
          compact({ listenerId: l.listenerId, nodeIndex: l.nodeIndex }),
        ),
      }),
    },
    relationships,
  );
}

/** What is read about a repository besides its listing entry; undefined = not available. */
export interface RepositoryDetails {
  readonly auth: RepoAuth | undefined;
  readonly analysis: RepoAnalysis | undefined;
  readonly networkAccessPolicy: NetworkAccessPolicy | undefined;
  readonly accessGateway: AccessGateway | undefined;
  /** The gateway's sidecar is extracted in the same run, so a link to it does not dangle. */
  readonly gatewayKnown: boolean;
}

/** A repository with its nodes, settings, network access policy and access gateway. */
export function repositoryToAsset(
  tenant: string,
  entry: RepoEntry,
  details: RepositoryDetails,
): Asset {
  const { repo } = entry;
  const gateway = details.accessGateway;
  const relationships: Relationship[] = [];
  if (details.gatewayKnown && gateway?.sidecarId != null) {
    relationships.push({
      typeName: 'CyralRepositoryAccessGateway',
      targetQualifiedName: qn.sidecar(tenant, gateway.sidecarId),
    });
  }
  return withRelationships(
    {
      typeName: CYRAL_TYPES.repository,
      qualifiedName: qn.repository(tenant, entry.id),
      name: repo.name,
      parentQualifiedName: qn.controlPlane(tenant),
      attributes: compact({
        id: entry.id,
        type: repo.type,
        labels: repo.labels,
        host: repo.repoHost,
        port: repo.repoPort,
        nodes: (repo.repoNodes ?? []).map((node) =>
          compact({ name: node.name, host: node.host, port: node.port, dynamic: node.dynamic }),
        ),
        mongoDbSettings: repo.mongoDbSettings && compact({ ...repo.mongoDbSettings }),
        redshiftSettings: repo.redshiftSettings && compact({ ...repo.redshiftSettings }),
        auth: details.auth && compact({ ...details.auth }),
        analysis: details.analysis && compact({ ...details.analysis }),
        networkAccessPolicy: networkPolicyJson(details.networkAccessPolicy),
        accessGateway:
          gateway && compact({ sidecarId: gateway.sidecarId, bindingId: gateway.bindingId }),
      }),
    },
    relationships,
  );
}

function networkPolicyJson(policy: NetworkAccessPolicy | undefined): JsonObject | undefined {
  if (policy === undefined) {
    return undefined;
  }
  const rules = policy.networkAccessRules;
  return compact({
    enabled: policy.enabled,
    rulesBlockAccess: rules?.rulesBlockAccess,
    rules: (rules?.rules ?? []).map((rule) =>
      compact({
        id: rule.id,
        name: rule.name,
        dbAccounts: rule.dbAccounts,
        sourceIpCount: rule.sourceIPs,
      }),
    ),
  });
}

/** A user account of a repository: its auth scheme's kind only, never where the secret is. */
export function userAccountToAsset(tenant: string, repoId: string, account: UserAccount): Asset {
  const approval = account.config?.approvalConfig;
  return {
    typeName: CYRAL_TYPES.userAccount,
    qualifiedName: qn.userAccount(tenant, repoId, account.userAccountID),
    name: account.name,
    parentQualifiedName: qn.repository(tenant, repoId),
    attributes: compact({
      id: account.userAccountID,
      repoId,
      authDatabaseName: account.authDatabaseName,
      authSchemeKind: account.authScheme[0],
      automaticGrant: approval?.automaticGrant,
      maxAutomaticGrantDuration: approval?.maxAutomaticGrantDuration,
    }),
    relationships: [
      {
        typeName: 'CyralUserAccountRepository',
        targetQualifiedName: qn.repository(tenant, repoId),
      },
    ],
  };
}

/**
 * An access rule of a user account. Rules carry no id: their position in the account's list
 * names them, which is stable between the reads of one run.
 */
export function accessRuleToAsset(
  account: { readonly tenant: string; readonly repoId: string; readonly accountId: string },
  rule: AccessRule,
  index: number,
): Asset {
  const accountName = qn.userAccount(account.tenant, account.repoId, account.accountId);
  return {
    typeName: CYRAL_TYPES.accessRule,
    qualifiedName: `${accountName}/rules/${index}`,
    name: `${rule.identity.type}:${rule.identity.name}`,
    parentQualifiedName: accountName,
    attributes: compact({
      repoId: account.repoId,
      userAccountId: account.accountId,
      identityType: rule.identity.type,
      identityName: rule.identity.name,
      validFrom: rule.validFrom,
      validUntil: rule.validUntil,
      policyInstanceIds: rule.config?.authorizationPolicyInstanceIDs,
    }),
    relationships: [{ typeName: 'CyralAccessRuleUserAccount', targetQualifiedName: accountName }],
  };
}

/** A repository as a selectable resource. */
export function repositoryToResource(entry: RepoEntry): DiscoveredResource {
  return {
    kind: 'repository',
    id: entry.id,
    name: entry.repo.name,
    attributes: { type: entry.repo.type },
  };
}

/** A sidecar as a selectable resource. */
export function sidecarToResource(entry: SidecarEntry): DiscoveredResource {
  return {
    kind: 'sidecar',
    id: entry.id,
    name: entry.sidecar.name,
    attributes: compact({ deploymentMethod: entry.sidecar.properties?.deploymentMethod }),
  };
}
