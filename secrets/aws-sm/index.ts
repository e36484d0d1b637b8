import { createLazyStoreClient, defineSecretStore } from '../../agent/plugin-api/index.ts';
import type { SecretStoreDeps } from '../../agent/plugin-api/index.ts';
import { mapAwsError } from './errors.ts';
import { canonicalizeAwsRef } from './locator.ts';
import { AwsSmProfileSchema } from './profile.ts';
import type { AwsSmProfile } from './profile.ts';

/**
 * The region of names without ?region=: the profile's, else the pod's (the EKS webhook sets
 * AWS_REGION), so that canonical locators and the region allowlist know it before any call.
 */
function withRegion(profile: AwsSmProfile, deps: SecretStoreDeps): AwsSmProfile {
  const { environment } = deps;
  const region = profile.region ?? environment['AWS_REGION'] ?? environment['AWS_DEFAULT_REGION'];
  return { ...profile, region };
}

/**
 * AWS Secrets Manager: `aws-sm://<name or ARN>[?region=…][&version=<stage>|uuid/<VersionId>]`.
 * The AWS SDK is loaded at the first read or probe. See secrets/aws-sm/README.md for profiles,
 * auth methods and IAM permissions.
 */
export const awsSecretsManagerStore = defineSecretStore({
  scheme: 'aws-sm',
  params: ['region'],
  profileSchema: AwsSmProfileSchema,
  create: (settings, deps) => {
    const profile = withRegion(settings, deps);
    return createLazyStoreClient({
      scheme: 'aws-sm',
      deps,
      canonicalize: (ref) => canonicalizeAwsRef(ref, profile),
      load: async (lifetime) =>
        (await import('./client.ts')).createAwsBackend(profile, deps, lifetime),
      mapError: (error, locator) => mapAwsError(error, { profile: deps.profileName, locator }),
    });
  },
});

export { AwsSmProfileSchema } from './profile.ts';
export type { AwsSmProfile } from './profile.ts';
