import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildSecretStoresSchema } from '../../agent/secrets/profiles.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { CanonicalSecretRef } from '../../agent/plugin-api/index.ts';
import { awsSecretsManagerStore } from './index.ts';
import { canonicalizeAwsRef } from './locator.ts';
import { AwsSmProfileSchema } from './profile.ts';

const ARN_EU = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf';
const VERSION_ID = 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1';

function canonical(
  text: string,
  profile: Record<string, unknown> = { region: 'us-east-1' },
): CanonicalSecretRef {
  return canonicalizeAwsRef(
    parseSecretRef(text, [awsSecretsManagerStore]),
    AwsSmProfileSchema.parse(profile),
  );
}

function failure(
  text: string,
  profile?: Record<string, unknown>,
): { code: string; message: string } {
  try {
    canonical(text, profile);
  } catch (error) {
    if (isPerimeterError(error)) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error(`${text} was accepted`);
}

describe('aws-sm locators', () => {
  it.each([
    [
      'aws-sm://prod/db',
      'prod/db',
      undefined,
      false,
      { secretId: 'prod/db', region: 'us-east-1', versionStage: 'AWSCURRENT' },
    ],
    [
      'aws-sm://prod/db?version=AWSCURRENT',
      'prod/db',
      undefined,
      false,
      { versionStage: 'AWSCURRENT' },
    ],
    [
      'aws-sm://prod/db?version=AWSPREVIOUS',
      'prod/db',
      'AWSPREVIOUS',
      false,
      { versionStage: 'AWSPREVIOUS' },
    ],
    [
      `aws-sm://prod/db?version=uuid/${VERSION_ID}`,
      'prod/db',
      `uuid/${VERSION_ID}`,
      true,
      { versionId: VERSION_ID },
    ],
    ['aws-sm://a_b+c=d.e@f-g', 'a_b+c=d.e@f-g', undefined, false, { secretId: 'a_b+c=d.e@f-g' }],
    [`aws-sm://${ARN_EU}`, ARN_EU, undefined, false, { secretId: ARN_EU, region: 'eu-west-1' }],
    [`aws-sm://${ARN_EU}?region=eu-west-1`, ARN_EU, undefined, false, { region: 'eu-west-1' }],
    ['aws-sm://prod/db?region=us-east-1', 'prod/db', undefined, false, { region: 'us-east-1' }],
    [
      'aws-sm://prod/db?region=us-west-2',
      'prod/db?region=us-west-2',
      undefined,
      false,
      { region: 'us-west-2' },
    ],
  ])('canonicalizes %s', (text, locator, version, pinned, details) => {
    const ref = canonical(text);
    expect(ref.locator).toBe(locator);
    expect(ref.version).toBe(version);
    expect(ref.pinned).toBe(pinned);
    expect(ref.details).toMatchObject(details);
  });

  it('keeps the SDK default region when neither reference nor profile names one', () => {
    expect(canonical('aws-sm://prod/db', {}).details).not.toHaveProperty('region');
  });

  it.each([
    ['aws-sm://prod:db', /characters AWS does not allow/],
    ['aws-sm://arn:aws:s3:::bucket', /not a Secrets Manager secret ARN/],
    ['aws-sm://arn:aws:secretsmanager:eu-west-1:1234:secret:x', /not a Secrets Manager secret ARN/],
    [`aws-sm://${ARN_EU}?region=us-east-1`, /contradicts the ARN's region eu-west-1/],
    ['aws-sm://prod/db?region=mars', /not an AWS region name/],
    ['aws-sm://prod/db?version=uuid/short', /VersionId has 32 to 64/],
    ['aws-sm://prod/db?version=a%20b', /neither a staging label/],
  ])('refuses %s with the expected form', (text, problem) => {
    const { code, message } = failure(text);
    expect(code).toBe('SECRET_INVALID_REF');
    expect(message).toMatch(problem);
    expect(message).toContain('aws-sm://<name>');
  });

  it('denies an ARN of an account the profile does not allow', () => {
    const { code, message } = failure(`aws-sm://${ARN_EU}`, { allowedAccounts: ['210987654321'] });
    expect(code).toBe('SECRET_REF_DENIED');
    expect(message).toContain('secretStores.aws-sm.allowedAccounts');
    expect(canonical(`aws-sm://${ARN_EU}`, { allowedAccounts: ['123456789012'] }).locator).toBe(
      ARN_EU,
    );
  });

  it('denies a region the profile does not allow, by ARN or by ?region=', () => {
    const profile = { region: 'us-east-1', allowedRegions: ['us-east-1'] };
    expect(failure(`aws-sm://${ARN_EU}`, profile).code).toBe('SECRET_REF_DENIED');
    expect(failure('aws-sm://prod/db?region=eu-west-1', profile).code).toBe('SECRET_REF_DENIED');
    expect(canonical('aws-sm://prod/db', profile).details['region']).toBe('us-east-1');
  });

  it('asks for a region when the profile restricts regions but names none', () => {
    const { code, message } = failure('aws-sm://prod/db', { allowedRegions: ['us-east-1'] });
    expect(code).toBe('SECRET_INVALID_REF');
    expect(message).toContain('add ?region= or set the profile region');
  });
});

describe('aws-sm profile schema', () => {
  it('refuses a literal access key where a reference belongs', () => {
    const result = AwsSmProfileSchema.safeParse({
      auth: {
        type: 'static',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'env://AWS_SECRET',
      },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['auth', 'accessKeyId']);
    expect(result.error?.issues[0]?.message).toContain('never a literal credential');
  });

  it('refuses unknown keys, type and allow (the resolver adds those)', () => {
    expect(AwsSmProfileSchema.safeParse({ regoin: 'us-east-1' }).success).toBe(false);
    expect(AwsSmProfileSchema.safeParse({ type: 'aws-sm' }).success).toBe(false);
    expect(AwsSmProfileSchema.safeParse({ allow: ['*'] }).success).toBe(false);
  });

  it('refuses a plain-http endpoint unless it is on loopback', () => {
    const result = AwsSmProfileSchema.safeParse({
      endpoint: 'http://secretsmanager.internal:8080',
    });
    expect(result.error?.issues[0]?.message).toContain('must be an https:// URL');
    expect(AwsSmProfileSchema.safeParse({ endpoint: 'http://127.0.0.1:4566' }).success).toBe(true);
    expect(
      AwsSmProfileSchema.safeParse({
        endpoint: 'https://vpce-1.secretsmanager.eu-west-1.vpce.amazonaws.com',
      }).success,
    ).toBe(true);
  });

  it('bounds the retry attempts', () => {
    expect(AwsSmProfileSchema.safeParse({ maxAttempts: 50 }).success).toBe(false);
    expect(AwsSmProfileSchema.parse({}).maxAttempts).toBe(3);
    expect(AwsSmProfileSchema.parse({}).auth).toEqual({ type: 'default' });
  });

  it('describes every key', () => {
    for (const [key, schema] of Object.entries(AwsSmProfileSchema.shape)) {
      expect(schema.description, key).toBeTruthy();
    }
    expect(z.toJSONSchema(AwsSmProfileSchema, { io: 'input' })).toBeTruthy();
  });

  it('plugs into the secretStores section of the agent config, with type and allow', () => {
    const schema = buildSecretStoresSchema([awsSecretsManagerStore]);
    const profile = { type: 'aws-sm', allow: ['prod/perimeter/*'], region: 'eu-west-1' };
    expect(schema.safeParse({ 'aws-sm': profile }).error).toBeUndefined();
    const bad = schema.safeParse({ 'aws-sm': { ...profile, maxAttempts: 0 } });
    expect(bad.error?.issues[0]?.path).toEqual(['aws-sm', 'maxAttempts']);
  });
});
