import { PREDEFINED_LABELS } from './tenant.ts';
import type { CyralTenant } from './tenant.ts';

// The records of what governs the simulated control plane's repositories: data labels, legacy and
// v2 policies, permissions, roles with SSO group mappings, logging and SSO integrations. Secret-
// bearing fields (integration keys and tokens, IdP certificates) carry the tenant's planted value.

const LOGGING_KINDS = ['datadog', 'splunk', 'elk', 'cloudWatch'] as const;
const V2_POLICY_TYPES = ['local', 'global', 'approval'] as const;

/** Data label `k`: the predefined ones first, then custom ones. */
export function label(tenant: CyralTenant, k: number): Record<string, unknown> {
  const predefined = k < PREDEFINED_LABELS.length;
  return {
    name: tenant.labelName(k),
    type: predefined ? 'PREDEFINED' : 'CUSTOM',
    description: `label ${k}`,
    tags: k % 2 === 0 ? ['PII'] : ['PCI'],
    classificationRule: { ruleType: 'REGO', ruleCode: 'package classifier', status: 'ENABLED' },
    implicit: false,
  };
}

/** Legacy policy ids, the stale ones last. */
export function legacyPolicyIds(tenant: CyralTenant): string[] {
  const { legacyPolicies, stalePolicies } = tenant.size;
  return [
    ...Array.from({ length: legacyPolicies }, (_, p) => tenant.id('policy', p)),
    ...Array.from({ length: stalePolicies }, (_, p) => tenant.id('stale-policy', p)),
  ];
}

export function legacyPolicyIndex(tenant: CyralTenant, id: string): number | undefined {
  return tenant.indexOf('policy', tenant.size.legacyPolicies, id);
}

export function legacyPolicy(tenant: CyralTenant, p: number): Record<string, unknown> {
  const labels = Math.max(1, tenant.size.labels);
  return {
    meta: {
      id: tenant.id('policy', p),
      name: `policy-${Math.floor(p / 2)}`,
      version: '1',
      created: '2025-01-01T00:00:00Z',
      lastUpdated: '2025-02-01T00:00:00Z',
      type: 'terraform',
      tags: ['pci'],
      enabled: p % 4 !== 3,
      description: 'protects card data',
    },
    data: [tenant.labelName(p % labels), tenant.labelName((p + 1) % labels)],
    tags: ['pci'],
  };
}

/** The v2 policies of one type (`local`, `global`, `approval`). */
export function policiesV2(tenant: CyralTenant, type: string): Record<string, unknown>[] {
  const typeIndex = V2_POLICY_TYPES.indexOf(type as (typeof V2_POLICY_TYPES)[number]);
  if (typeIndex < 0) return [];
  return Array.from({ length: tenant.size.policiesV2 }, (_, p) => ({
    id: tenant.id('policy-v2', typeIndex, p),
    name: `v2-${type}-${p}`,
    description: 'row filter',
    enabled: true,
    enforced: p % 2 === 0,
    type: 'POLICY_TYPE_LOCAL',
    scope: { repoIds: tenant.size.repos > 0 ? [tenant.repoId(p % tenant.size.repos)] : [] },
    tags: ['finance'],
    document: 'package cyral\nallow := true',
    lastUpdated: {
      actor: 'admin@example.com',
      actorType: 'USER',
      timestamp: '2025-03-01T00:00:00Z',
    },
    created: { actor: 'admin@example.com', actorType: 'USER', timestamp: '2025-01-01T00:00:00Z' },
  }));
}

export function permissions(tenant: CyralTenant): Record<string, unknown> {
  const names = ['View Sidecars and Repositories', 'Modify Policies', 'View Datamaps'];
  return { roles: names.map((name, i) => ({ id: tenant.id('permission', i), name })) };
}

export function roles(tenant: CyralTenant): Record<string, unknown> {
  return {
    groups: Array.from({ length: tenant.size.roles }, (_, g) => ({
      id: tenant.id('role', g),
      name: g === 0 ? 'Super Admin' : `viewer-${Math.floor(g / 2)}`,
      description: 'built in',
      roles: [tenant.id('permission', g % 3)],
      members: [{ email: 'someone@example.com' }],
      mappings: [
        {
          id: tenant.id('mapping', g),
          groupName: `okta-group-${g}`,
          connectionAlias: 'okta',
          connectionName: 'Okta',
        },
      ],
    })),
  };
}

export function loggingIntegrations(tenant: CyralTenant): Record<string, unknown> {
  return {
    integrations: Array.from({ length: tenant.size.loggingIntegrations }, (_, i) => {
      const kind = LOGGING_KINDS[i % LOGGING_KINDS.length] ?? 'datadog';
      return {
        id: tenant.id('logging', i),
        name: `logs-${Math.floor(i / 2)}`,
        receiveAuditLogs: true,
        [kind]: loggingBody(tenant, kind),
      };
    }),
  };
}

function loggingBody(
  tenant: CyralTenant,
  kind: (typeof LOGGING_KINDS)[number],
): Record<string, unknown> {
  switch (kind) {
    case 'datadog':
      return { apiKey: tenant.planted };
    case 'splunk':
      return { hostname: 'splunk.internal', hecPort: '8088', accessToken: tenant.planted };
    case 'elk':
      return {
        esUrl: 'https://es.internal',
        esCredentials: { username: 'u', password: tenant.planted },
      };
    case 'cloudWatch':
      return { region: 'us-east-1', group: 'cyral', stream: 'audit' };
  }
}

export function ssoIntegrations(tenant: CyralTenant): Record<string, unknown> {
  return {
    identityProviders: Array.from({ length: tenant.size.ssoIntegrations }, (_, i) => ({
      id: tenant.id('sso', i),
      displayName: `Okta ${i}`,
      idpType: 'okta',
      disabled: false,
      idpDescriptor: {
        singleSignOnServiceURL: 'https://okta.example',
        signingCertificate: tenant.planted,
      },
    })),
  };
}
