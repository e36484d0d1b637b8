import type { Asset, Relationship } from '../../agent/plugin-api/index.ts';
import { CYRAL_TYPES, child, compact, qn, withRelationships } from './names.ts';
import type {
  DataLabel,
  LegacyPolicy,
  LoggingIntegration,
  PolicyV2,
  Role,
  SsoIntegration,
} from './records-governance.ts';

// Pure record → asset functions for what governs the repositories: data labels, policies, roles
// with their SSO group mappings, and integrations.

/** The labels and repositories that exist as assets of the run, so no link dangles. */
export interface KnownTargets {
  readonly labels: ReadonlySet<string>;
  readonly repoIds: ReadonlySet<string>;
}

/** A data label of the glossary; its rule's code is never read. */
export function dataLabelToAsset(tenant: string, label: DataLabel): Asset {
  return {
    typeName: CYRAL_TYPES.dataLabel,
    qualifiedName: qn.dataLabel(tenant, label.name),
    name: label.name,
    parentQualifiedName: qn.controlPlane(tenant),
    attributes: compact({
      type: label.type,
      description: label.description,
      tags: label.tags,
      classificationRuleType: label.classificationRule?.ruleType,
      classificationRuleStatus: label.classificationRule?.status,
      implicit: label.implicit,
    }),
  };
}

/** A legacy (v1) policy, linked to the data labels it governs. */
export function legacyPolicyToAsset(
  tenant: string,
  policy: LegacyPolicy,
  known: KnownTargets,
): Asset {
  const { meta } = policy;
  const labels = policy.data ?? [];
  return withRelationships(
    {
      typeName: CYRAL_TYPES.policy,
      qualifiedName: qn.legacyPolicy(tenant, meta.id),
      name: meta.name,
      parentQualifiedName: qn.controlPlane(tenant),
      attributes: compact({
        id: meta.id,
        apiVersion: 'v1',
        version: meta.version,
        type: meta.type,
        enabled: meta.enabled,
        description: meta.description,
        tags: meta.tags,
        created: meta.created,
        lastUpdated: meta.lastUpdated,
        dataLabels: labels,
      }),
    },
    labelLinks(tenant, labels, known),
  );
}

/** A v2 policy, linked to the repositories of its scope. Its document is not carried. */
export function policyV2ToAsset(
  tenant: string,
  policyType: string,
  policy: PolicyV2,
  known: KnownTargets,
): Asset {
  const repoIds = policy.scope?.repoIds ?? [];
  return withRelationships(
    {
      typeName: CYRAL_TYPES.policy,
      qualifiedName: qn.policyV2(tenant, policyType, policy.id),
      name: policy.name,
      parentQualifiedName: qn.controlPlane(tenant),
      attributes: compact({
        id: policy.id,
        apiVersion: 'v2',
        policyType,
        type: policy.type,
        enabled: policy.enabled,
        enforced: policy.enforced,
        description: policy.description,
        tags: policy.tags,
        validFrom: policy.validFrom,
        validUntil: policy.validUntil,
        scopeRepoIds: repoIds,
        created: policy.created?.timestamp,
        lastUpdated: policy.lastUpdated?.timestamp,
      }),
    },
    repoIds
      .filter((repoId) => known.repoIds.has(repoId))
      .map((repoId) => ({
        typeName: 'CyralPolicyRepository',
        targetQualifiedName: qn.repository(tenant, repoId),
      })),
  );
}

function labelLinks(
  tenant: string,
  labels: readonly string[],
  known: KnownTargets,
): Relationship[] {
  return [...new Set(labels)]
    .filter((label) => known.labels.has(label))
    .map((label) => ({
      typeName: 'CyralPolicyDataLabel',
      targetQualifiedName: qn.dataLabel(tenant, label),
    }));
}

/**
 * A Cyral role with the names of its permissions (ids the permission list does not know stay
 * as ids) and its member count; members themselves are personal and never carried.
 */
export function roleToAsset(
  tenant: string,
  role: Role,
  permissionNames: ReadonlyMap<string, string>,
): Asset {
  return {
    typeName: CYRAL_TYPES.role,
    qualifiedName: qn.role(tenant, role.id),
    name: role.name,
    parentQualifiedName: qn.controlPlane(tenant),
    attributes: compact({
      id: role.id,
      description: role.description,
      permissions: (role.roles ?? []).map((id) => permissionNames.get(id) ?? id),
      memberCount: role.members,
      ssoGroupCount: (role.mappings ?? []).length,
    }),
  };
}

/** The SSO group mappings of a role, one asset each. */
export function ssoMappingAssets(tenant: string, role: Role): Asset[] {
  const roleName = qn.role(tenant, role.id);
  return (role.mappings ?? []).map((mapping) => ({
    typeName: CYRAL_TYPES.ssoGroupMapping,
    qualifiedName: child(roleName, 'ssoGroups', mapping.id),
    name: mapping.groupName ?? mapping.id,
    parentQualifiedName: roleName,
    attributes: compact({
      id: mapping.id,
      roleId: role.id,
      groupName: mapping.groupName,
      connectionAlias: mapping.connectionAlias,
      connectionName: mapping.connectionName,
    }),
  }));
}

/** A logging integration: its name and kind (Datadog, Splunk...), never its settings. */
export function loggingIntegrationToAsset(tenant: string, integration: LoggingIntegration): Asset {
  return {
    typeName: CYRAL_TYPES.integration,
    qualifiedName: qn.integration(tenant, 'logging', integration.id),
    name: integration.name,
    parentQualifiedName: qn.controlPlane(tenant),
    attributes: compact({
      id: integration.id,
      category: 'logging',
      kind: integration.kinds[0],
      receiveAuditLogs: integration.receiveAuditLogs,
    }),
  };
}

/** An SSO identity provider: its name and type, never its descriptor or certificates. */
export function ssoIntegrationToAsset(tenant: string, integration: SsoIntegration): Asset {
  return {
    typeName: CYRAL_TYPES.integration,
    qualifiedName: qn.integration(tenant, 'sso', integration.id),
    name: integration.displayName,
    parentQualifiedName: qn.controlPlane(tenant),
    attributes: compact({
      id: integration.id,
      category: 'sso',
      kind: integration.idpType,
      disabled: integration.disabled,
    }),
  };
}
