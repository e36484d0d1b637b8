import { z } from 'zod';
import { HttpSettingsSchema } from '../http/settings.ts';
import type { SecretStoreDefinition } from '../plugin-api/index.ts';
import { HealthSettingsSchema } from '../health/settings.ts';
import { LedgerSettingsSchema } from '../ledger/settings.ts';
import { ControlPlaneSettingsSchema } from '../link/settings.ts';
import { QueueSettingsSchema, RedisSettingsSchema } from '../queue/settings.ts';
import { buildSecretStoresSchema } from '../secrets/profiles.ts';
import { SecretsSettingsSchema } from '../secrets/settings.ts';
import { CatalogSettingsSchema } from '../sink/settings.ts';
import { ConnectionsSchema, PolicySettingsSchema, ReviewSettingsSchema } from '../run/settings.ts';
import { AgentSettingsSchema, LocalJobSchema } from './sections.ts';

/**
 * The whole configuration: one strict schema composed of each module's section. Built from the
 * registered secret stores, whose profile settings are part of it.
 */
// eslint-disable-next-line @typescript-eslint/explicit-module-boundary-types -- inferred from the composed section schemas
export function buildConfigSchema(stores: readonly SecretStoreDefinition[]) {
  return z.strictObject({
    agent: AgentSettingsSchema.prefault({}),
    http: HttpSettingsSchema.prefault({}).describe(
      'Outbound HTTP: proxy, CA bundle, timeouts, retries.',
    ),
    catalog: CatalogSettingsSchema.optional().describe(
      'The catalog metadata is pushed to. Required for runs, unless `perimeter run --output DIR`.',
    ),
    secrets: SecretsSettingsSchema.prefault({}).describe('Secret resolution and caching.'),
    secretStores: buildSecretStoresSchema(stores)
      .prefault({})
      .describe('Secret store profiles by name: type, allowlist, endpoint and auth.'),
    policy: PolicySettingsSchema.prefault({}),
    connections: ConnectionsSchema,
    controlPlane: ControlPlaneSettingsSchema.optional(),
    redis: RedisSettingsSchema.prefault({}),
    queue: QueueSettingsSchema.prefault({}),
    health: HealthSettingsSchema.prefault({}),
    ledger: LedgerSettingsSchema.prefault({}),
    review: ReviewSettingsSchema.prefault({}),
    jobs: z
      .array(LocalJobSchema)
      .default([])
      .describe('Standalone-mode jobs: run once at start or on a schedule.'),
  });
}

/** The parsed configuration. */
export type AgentConfig = z.output<ReturnType<typeof buildConfigSchema>>;
