import { z } from 'zod';
import { flag, id, kindsOf, names, text } from './fields.ts';

// Schemas of what governs the repositories: data labels, policies, roles and integrations. Like
// records.ts, they name only what is kept: a label's rule code, a policy document, role members,
// an integration's settings (API keys, tokens, passwords) and an IdP's descriptor never enter.

/** A data label of `GET /v1/datalabels`; the rule's code is left out. */
export const DataLabelSchema = z.object({
  name: z.string().min(1).max(256),
  type: text,
  description: text,
  tags: names,
  classificationRule: z.object({ ruleType: text, status: text }).nullish(),
  implicit: flag,
});
export const DataLabelListSchema = z.object({ labels: z.array(DataLabelSchema).max(100_000) });
export type DataLabel = z.infer<typeof DataLabelSchema>;

/** `GET /v1/policies` (legacy): `{Policies: [id]}`, capital P. */
export const PolicyIdListSchema = z.object({ Policies: z.array(id).max(100_000).nullish() });

/** `GET /v1/policies/{id}` (legacy). */
export const LegacyPolicySchema = z.object({
  meta: z.object({
    id,
    name: z.string().max(1024),
    version: text,
    type: text,
    enabled: flag,
    description: text,
    tags: names,
    created: text,
    lastUpdated: text,
  }),
  data: names,
});
export type LegacyPolicy = z.infer<typeof LegacyPolicySchema>;

const changeSchema = z.object({ actorType: text, timestamp: text }).nullish();

/** A v2 policy (`GET /v2/policies/{type}`, where served); the document itself is left out. */
export const PolicyV2Schema = z.object({
  id,
  name: z.string().max(1024),
  description: text,
  enabled: flag,
  enforced: flag,
  type: text,
  scope: z.object({ repoIds: names }).nullish(),
  tags: names,
  validFrom: text,
  validUntil: text,
  created: changeSchema,
  lastUpdated: changeSchema,
});
export const PolicyV2ListSchema = z.object({ policies: z.array(PolicyV2Schema).max(100_000) });
export type PolicyV2 = z.infer<typeof PolicyV2Schema>;

/** `GET /v1/users/roles`: the permissions a role may carry. */
export const PermissionListSchema = z.object({
  roles: z.array(z.object({ id, name: z.string().max(1024) })).max(10_000),
});

/** `GET /v1/users/groups`: Cyral roles, their permissions and SSO group mappings (no members). */
export const RoleListSchema = z.object({
  groups: z
    .array(
      z.object({
        id,
        name: z.string().max(1024),
        description: text,
        roles: names,
        members: z
          .array(z.unknown())
          .nullish()
          .transform((members) => members?.length ?? 0),
        mappings: z
          .array(z.object({ id, groupName: text, connectionAlias: text, connectionName: text }))
          .max(10_000)
          .nullish(),
      }),
    )
    .max(100_000),
});
export type Role = z.infer<typeof RoleListSchema>['groups'][number];

/** `GET /v1/integrations/logging`: each reduced to its id, name and kind(s). */
export const LoggingIntegrationListSchema = z.object({
  integrations: z
    .array(
      z
        .looseObject({ id, name: z.string().max(1024), receiveAuditLogs: flag })
        .transform(({ id: integrationId, name, receiveAuditLogs, ...bodies }) => ({
          id: integrationId,
          name,
          receiveAuditLogs,
          kinds: kindsOf().parse(bodies),
        })),
    )
    .max(10_000),
});
export type LoggingIntegration = z.infer<
  typeof LoggingIntegrationListSchema
>['integrations'][number];

/** `GET /v1/integrations/generic-saml/sso`: the IdP descriptor (certificates) is left out. */
export const SsoIntegrationListSchema = z.object({
  identityProviders: z
    .array(z.object({ id, displayName: z.string().max(1024), idpType: text, disabled: flag }))
    .max(10_000),
});
export type SsoIntegration = z.infer<typeof SsoIntegrationListSchema>['identityProviders'][number];
