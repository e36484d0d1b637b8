import { z } from 'zod';
import {
  credentialRefSchema,
  requestTimeoutMsSchema,
  storeUrlSchema,
} from '../../agent/plugin-api/index.ts';

/** An AWS region name: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`. */
export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

const regionSchema = z
  .string()
  .regex(AWS_REGION_PATTERN, 'must be an AWS region name such as eu-west-1');

const secretRefSchema = credentialRefSchema(
  'file:///var/run/secrets/perimeter/aws/secret-access-key',
);

const defaultAuthSchema = z
  .strictObject({
    type: z
      .literal('default')
      .describe(
        "The AWS SDK's default chain: IRSA web identity, EKS Pod Identity, ECS/instance metadata, AWS_* environment variables.",
      ),
  })
  .describe('Credentials from the workload identity of the pod or VM (recommended).');

const staticAuthSchema = z
  .strictObject({
    type: z.literal('static').describe('Static access keys, resolved through other secret stores.'),
    accessKeyId: secretRefSchema.describe('Reference to the access key id (AKIA… or ASIA…).'),
    secretAccessKey: secretRefSchema.describe('Reference to the secret access key.'),
    sessionToken: secretRefSchema
      .optional()
      .describe('Reference to a session token, for temporary keys only.'),
  })
  .describe(
    'Access keys given as secret references; re-read every few minutes so that rotations apply.',
  );

/** How the store authenticates to AWS. */
export const AwsSmAuthSchema = z.discriminatedUnion('type', [defaultAuthSchema, staticAuthSchema]);

/** Settings of one `aws-sm` profile (`secretStores.<profile>`, besides `type` and `allow`). */
export const AwsSmProfileSchema = z.strictObject({
  region: regionSchema
    .optional()
    .describe(
      'Region of secrets referenced by name without ?region= (ARNs carry their own). Unset: AWS_REGION (or AWS_DEFAULT_REGION) in the agent environment, then the shared config file.',
    ),
  endpoint: storeUrlSchema()
    .optional()
    .describe(
      'Endpoint override: a VPC interface endpoint URL, or a local fake in tests. Unset: the regional endpoint.',
    ),
  auth: AwsSmAuthSchema.default({ type: 'default' }).describe(
    'How Perimeter authenticates: `default` (workload identity) or `static` (key references).',
  ),
  allowedAccounts: z
    .array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))
    .min(1)
    .optional()
    .describe('Account ids whose secret ARNs references may name. Unset: any account.'),
  allowedRegions: z
    .array(regionSchema)
    .min(1)
    .optional()
    .describe(
      'Regions references may read from (by ARN, ?region= or `region`). Unset: any region.',
    ),
  maxAttempts: z
    .int()
    .min(1)
    .max(10)
    .default(3)
    .describe('Attempts per read, the first included, on throttling, 5xx and network errors.'),
  requestTimeoutMs: requestTimeoutMsSchema(),
});

/** A parsed `aws-sm` profile. */
export type AwsSmProfile = z.output<typeof AwsSmProfileSchema>;

/** The `auth` setting of a parsed profile. */
export type AwsSmAuth = AwsSmProfile['auth'];
