import { defineSecretStore } from '../../agent/plugin-api/index.ts';
import { AwsSecretsManagerStore } from './client.ts';
import { AwsSmProfileSchema } from './profile.ts';

/**
 * AWS Secrets Manager: `aws-sm://<name or ARN>[?region=…][&version=<stage>|uuid/<VersionId>]`.
 * See secrets/aws-sm/README.md for profiles, auth methods and IAM permissions.
 */
export const awsSecretsManagerStore = defineSecretStore({
  scheme: 'aws-sm',
  params: ['region'],
  profileSchema: AwsSmProfileSchema,
  create: (profile, deps) => new AwsSecretsManagerStore(profile, deps),
});

export { AwsSmProfileSchema } from './profile.ts';
export type { AwsSmProfile } from './profile.ts';
