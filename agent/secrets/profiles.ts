import { z } from 'zod';
import { PerimeterError } from '../plugin-api/index.ts';
import type { SecretStoreDefinition } from '../plugin-api/index.ts';
import { compileGlob, globProblem } from './glob.ts';
import type { Glob } from './glob.ts';
import { MAX_MAX_AGE_SECONDS, MIN_MAX_AGE_SECONDS, PROFILE_NAME } from './ref.ts';

/**
 * What the profiles that exist without configuration may read. `env` may read any variable
 * (the operator controls the agent's environment); `file` only the usual secret mount points
 * (Kubernetes service-account and Secret volumes, the agent's own folder, Docker secrets).
 */
export const IMPLICIT_ALLOW: Readonly<Record<string, readonly string[]>> = {
  env: ['**'],
  file: ['/var/run/secrets/**', '/etc/perimeter/secrets/**', '/run/secrets/**'],
};

/** One parsed `secretStores.<name>` entry: the common keys and the store's own settings. */
export interface SecretProfileConfig {
  readonly type: string;
  readonly allow: readonly string[];
  readonly maxAgeSeconds?: number | undefined;
  readonly [setting: string]: unknown;
}

/** The parsed `secretStores` section: profile name → profile. */
export type SecretProfiles = Readonly<Record<string, SecretProfileConfig>>;

/** A profile ready for the resolver: its store, compiled allowlist and store settings. */
export interface ResolvedProfile {
  readonly name: string;
  readonly store: SecretStoreDefinition;
  readonly allow: readonly Glob[];
  readonly maxAgeSeconds: number | undefined;
  /** The store-specific settings, as its `profileSchema` parsed them (common keys included). */
  readonly settings: unknown;
  /** True for the env and file profiles that exist without configuration. */
  readonly implicit: boolean;
}

const GlobSchema = z.string().superRefine((pattern, context) => {
  const problem = globProblem(pattern);
  if (problem !== undefined) {
    context.addIssue({ code: 'custom', message: `invalid glob: ${problem}` });
  }
});

function commonKeys(store: SecretStoreDefinition): z.ZodRawShape {
  return {
    type: z
      .literal(store.scheme)
      .describe('The store this profile connects to: the reference scheme'),
    allow: z
      .array(GlobSchema)
      .min(1, 'list at least one glob; a profile that may read nothing is a mistake')
      .describe(
        'Globs over canonical locators the profile may read (* one segment, ** any depth); anything else is refused before any call',
      ),
    maxAgeSeconds: z
      .number()
      .int()
      .min(MIN_MAX_AGE_SECONDS)
      .max(MAX_MAX_AGE_SECONDS)
      .optional()
      .describe(
        "Soft cache TTL of this profile's floating references; default secrets.softTtlSeconds",
      ),
  };
}

function profileSchemaOf(store: SecretStoreDefinition): z.ZodObject {
  if (!(store.profileSchema instanceof z.ZodObject)) {
    throw new Error(`Secret store "${store.scheme}": profileSchema must be a z.object`);
  }
  return store.profileSchema.safeExtend(commonKeys(store)).strict();
}

/**
 * The zod schema of the `secretStores` section: profile name → `{type, allow, maxAgeSeconds?,
 * ...store settings}`, discriminated on `type`. A profile named like a scheme is that scheme's
 * default profile, so it must be of that type.
 */
export function buildSecretStoresSchema(
  stores: readonly SecretStoreDefinition[],
): z.ZodType<SecretProfiles> {
  const [first, ...rest] = stores.map(profileSchemaOf);
  if (first === undefined) {
    throw new Error('No secret store is registered');
  }
  const schemes = new Set<string>();
  for (const { scheme } of stores) {
    if (schemes.has(scheme)) {
      throw new Error(`Two secret stores have the scheme "${scheme}"`);
    }
    schemes.add(scheme);
  }
  return z
    .record(z.string(), z.discriminatedUnion('type', [first, ...rest]))
    .superRefine((profiles, context) => {
      for (const [name, profile] of Object.entries(profiles)) {
        // Checked here rather than as the record's key schema, whose message zod replaces.
        if (!PROFILE_NAME.test(name)) {
          context.addIssue({
            code: 'custom',
            path: [name],
            message: 'profile names are lower-case letters, digits and dashes, up to 63 characters',
          });
        } else if (schemes.has(name) && profile['type'] !== name) {
          context.addIssue({
            code: 'custom',
            path: [name, 'type'],
            message: `the profile named "${name}" is the default profile of ${name}:// references and must have type ${name}`,
          });
        }
      }
    }) as unknown as z.ZodType<SecretProfiles>;
}

/**
 * The profiles the resolver serves: the configured ones plus the implicit env and file
 * profiles when those are not configured. Throws CONFIG_INVALID for a profile whose store is
 * not registered (the config schema prevents it; this guards hand-built options).
 */
export function resolveProfiles(
  configured: SecretProfiles,
  stores: readonly SecretStoreDefinition[],
): ReadonlyMap<string, ResolvedProfile> {
  const byScheme = new Map(stores.map((store) => [store.scheme, store]));
  const profiles = new Map<string, ResolvedProfile>();
  for (const [name, config] of Object.entries(configured)) {
    const store = byScheme.get(config.type);
    if (store === undefined) {
      throw new PerimeterError(
        'CONFIG_INVALID',
        `secretStores.${name}.type names no registered store; use one of ${[...byScheme.keys()].join(', ')}`,
        { context: { path: `secretStores.${name}.type` } },
      );
    }
    profiles.set(name, profileOf(name, store, config, false));
  }
  for (const store of stores) {
    if (store.implicitProfile !== undefined && !profiles.has(store.scheme)) {
      profiles.set(store.scheme, implicitProfileOf(store));
    }
  }
  return profiles;
}

function profileOf(
  name: string,
  store: SecretStoreDefinition,
  config: SecretProfileConfig,
  implicit: boolean,
): ResolvedProfile {
  return {
    name,
    store,
    allow: config.allow.map(compileGlob),
    maxAgeSeconds: config.maxAgeSeconds,
    settings: config,
    implicit,
  };
}

function implicitProfileOf(store: SecretStoreDefinition): ResolvedProfile {
  const allow = IMPLICIT_ALLOW[store.scheme];
  if (allow === undefined) {
    throw new Error(
      `Secret store "${store.scheme}" declares an implicit profile without a default allowlist`,
    );
  }
  const settings = store.profileSchema.parse(store.implicitProfile) as Record<string, unknown>;
  return profileOf(store.scheme, store, { ...settings, type: store.scheme, allow }, true);
}
