import { createLazyStoreClient, defineSecretStore } from '../../agent/plugin-api/index.ts';
import { mapGcpError } from './errors.ts';
import { canonicalizeGcpRef } from './locator.ts';
import { GcpSmProfileSchema } from './profile.ts';

export { GcpSmProfileSchema } from './profile.ts';
export type { GcpSmProfile } from './profile.ts';

/**
 * `gcp-sm://<project>/<secret>` or `gcp-sm://projects/<p>[/locations/<l>]/secrets/<s>[/versions/<v>]`:
 * GCP Secret Manager through `@google-cloud/secret-manager` (REST or gRPC), loaded at the first
 * read or probe. See README.md.
 */
export const gcpSmStore = defineSecretStore({
  scheme: 'gcp-sm',
  params: ['location'],
  profileSchema: GcpSmProfileSchema,
  create: (profile, deps) =>
    createLazyStoreClient({
      scheme: 'gcp-sm',
      deps,
      canonicalize: (ref) => canonicalizeGcpRef(ref, profile.allowedProjects),
      load: async (lifetime) =>
        (await import('./client.ts')).createGcpBackend(profile, deps, lifetime),
      mapError: mapGcpError,
    }),
});
