import { defineSecretStore } from '../../agent/plugin-api/index.ts';
import { createGcpSmClient } from './client.ts';
import { GcpSmProfileSchema } from './profile.ts';

export { GcpSmProfileSchema } from './profile.ts';
export type { GcpSmProfile } from './profile.ts';

/**
 * `gcp-sm://<project>/<secret>` or `gcp-sm://projects/<p>[/locations/<l>]/secrets/<s>[/versions/<v>]`:
 * GCP Secret Manager through `@google-cloud/secret-manager` (REST or gRPC). See README.md.
 */
export const gcpSmStore = defineSecretStore({
  scheme: 'gcp-sm',
  params: ['location'],
  profileSchema: GcpSmProfileSchema,
  create: createGcpSmClient,
});
