import type { ConnectorEvent } from '../../agent/plugin-api/index.ts';
import { controlPlaneToAsset } from './map.ts';
import {
  dataLabelToAsset,
  legacyPolicyToAsset,
  loggingIntegrationToAsset,
  policyV2ToAsset,
  roleToAsset,
  ssoIntegrationToAsset,
  ssoMappingAssets,
} from './map-governance.ts';
import { CYRAL_TYPES } from './names.ts';
import { POLICY_V2_TYPES, READS } from './reads.ts';
import type { DataLabel } from './records-governance.ts';
import { asset, readOrSkip } from './scope.ts';
import type { RunScope } from './scope.ts';

/** The control plane, the data-label glossary, roles with their SSO groups, and integrations. */
export async function* tenantAssets(
  scope: RunScope,
  labels: readonly DataLabel[],
): AsyncGenerator<ConnectorEvent> {
  const { client, tenant } = scope;
  const info = await client.read(READS.systemInfo.at());
  yield asset(controlPlaneToAsset(tenant, new URL(scope.ctx.config.baseUrl).host, info));
  for (const label of labels) {
    yield asset(dataLabelToAsset(tenant, label));
  }
  const [permissions, roles] = await Promise.all([
    client.read(READS.permissions.at()),
    client.read(READS.roles.at()),
  ]);
  const permissionNames = new Map(permissions.roles.map((p) => [p.id, p.name]));
  for (const role of roles.groups) {
    yield asset(roleToAsset(tenant, role, permissionNames));
    for (const mapping of ssoMappingAssets(tenant, role)) {
      yield asset(mapping);
    }
  }
  const [logging, sso] = await Promise.all([
    client.read(READS.loggingIntegrations.at()),
    client.read(READS.ssoIntegrations.at()),
  ]);
  for (const integration of logging.integrations) {
    yield asset(loggingIntegrationToAsset(tenant, integration));
  }
  for (const integration of sso.identityProviders) {
    yield asset(ssoIntegrationToAsset(tenant, integration));
  }
}

/**
 * Legacy policies (each read by id; an id that answers NotFound is skipped) and v2 policies of
 * each type; the listings' sizes are reported as the control plane's total of policies. Either API may be absent from a control plane: legacy ones before v4.15 only, v2
 * ones over REST only where served. An absent API is logged, not skipped.
 */
export async function* policyAssets(scope: RunScope): AsyncGenerator<ConnectorEvent> {
  const { client, tenant, ctx } = scope;
  const legacy = await client.readOptional(READS.legacyPolicyIds.at());
  if (legacy === undefined) {
    ctx.logger.info({ endpoint: READS.legacyPolicyIds.name }, 'Cyral serves no legacy policies');
  }
  const legacyIds = new Set(legacy?.Policies ?? []);
  // The id listing is the control plane's own count of its legacy policies.
  yield { type: 'reported', kind: CYRAL_TYPES.policy, total: legacyIds.size };
  for (const id of legacyIds) {
    const policy = await readOrSkip(scope, CYRAL_TYPES.policy, READS.legacyPolicy.at(id), {
      policyId: id,
    });
    if (policy !== undefined) {
      yield asset(legacyPolicyToAsset(tenant, policy, scope));
    }
  }
  for (const type of POLICY_V2_TYPES) {
    const request = READS.policiesV2.at(type);
    const listed = await client.readOptional(request);
    if (listed === undefined) {
      ctx.logger.info(
        { endpoint: request.endpoint, policyType: type },
        'Cyral serves no v2 policies of this type',
      );
    }
    yield { type: 'reported', kind: CYRAL_TYPES.policy, total: listed?.policies.length ?? 0 };
    for (const policy of listed?.policies ?? []) {
      yield asset(policyV2ToAsset(tenant, type, policy, scope));
    }
  }
}
