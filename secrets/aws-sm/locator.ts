import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { CanonicalSecretRef, SecretRef } from '../../agent/plugin-api/index.ts';
import { AWS_REGION_PATTERN } from './profile.ts';
import type { AwsSmProfile } from './profile.ts';

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const ARN_PATTERN =
  /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:([A-Za-z0-9/_+=.@-]{1,512})$/;
const STAGE_PATTERN = /^[A-Za-z0-9_+=.@-]{1,256}$/;
const VERSION_ID_PATTERN = /^[A-Za-z0-9-]{32,64}$/;
const PINNED_PREFIX = 'uuid/';
const CURRENT_STAGE = 'AWSCURRENT';

const EXPECTED_FORM =
  'Write aws-sm://<name>[?region=<region>][&version=<stage>|uuid/<VersionId>] with a name of letters, digits and /_+=.@- , or aws-sm://arn:aws:secretsmanager:<region>:<account>:secret:<name>.';

interface Target {
  readonly secretId: string;
  /** Region the request is signed for; undefined means the SDK default. */
  readonly region: string | undefined;
  /** Account of an ARN; undefined for names (the caller's own account). */
  readonly account: string | undefined;
  /** True when the region came from ?region= and differs from the profile's. */
  readonly foreignRegion: boolean;
}

/**
 * Validates an `aws-sm` reference against the profile and returns its canonical form.
 *
 * The canonical locator is the ARN, or the name; a name read from a region other than the
 * profile's carries `?region=<r>` so that cache keys and logs tell the two secrets apart.
 */
export function canonicalizeAwsRef(ref: SecretRef, profile: AwsSmProfile): CanonicalSecretRef {
  const target = parseTarget(ref, profile);
  checkAllowed(ref, target, profile);
  const version = parseVersion(ref);
  const details: Record<string, string> = { secretId: target.secretId, ...version.details };
  if (target.region !== undefined) {
    details['region'] = target.region;
  }
  return {
    locator: target.foreignRegion
      ? `${target.secretId}?region=${target.region ?? ''}`
      : target.secretId,
    version: version.canonical,
    pinned: version.pinned,
    details,
  };
}

function parseTarget(ref: SecretRef, profile: AwsSmProfile): Target {
  const regionParam = ref.params['region'];
  if (regionParam !== undefined && !AWS_REGION_PATTERN.test(regionParam)) {
    throw invalid(ref, `?region=${regionParam} is not an AWS region name such as eu-west-1.`);
  }
  if (ref.locator.startsWith('arn:')) {
    const match = ARN_PATTERN.exec(ref.locator);
    const region = match?.[2];
    if (match === null || region === undefined || !AWS_REGION_PATTERN.test(region)) {
      throw invalid(ref, 'The locator is not a Secrets Manager secret ARN.');
    }
    if (regionParam !== undefined && regionParam !== region) {
      throw invalid(ref, `?region=${regionParam} contradicts the ARN's region ${region}; drop it.`);
    }
    return { secretId: ref.locator, region, account: match[3], foreignRegion: false };
  }
  if (!NAME_PATTERN.test(ref.locator)) {
    throw invalid(ref, 'The secret name has characters AWS does not allow.');
  }
  return {
    secretId: ref.locator,
    region: regionParam ?? profile.region,
    account: undefined,
    foreignRegion: regionParam !== undefined && regionParam !== profile.region,
  };
}

function checkAllowed(ref: SecretRef, target: Target, profile: AwsSmProfile): void {
  const { allowedAccounts, allowedRegions } = profile;
  if (allowedAccounts !== undefined && target.account !== undefined) {
    if (!allowedAccounts.includes(target.account)) {
      throw denied(ref, `account ${target.account} is not in allowedAccounts`, 'allowedAccounts');
    }
  }
  if (allowedRegions !== undefined) {
    if (target.region === undefined) {
      throw invalid(
        ref,
        'The profile restricts regions, so the region must be known: add ?region= or set the profile region.',
      );
    }
    if (!allowedRegions.includes(target.region)) {
      throw denied(ref, `region ${target.region} is not in allowedRegions`, 'allowedRegions');
    }
  }
}

interface ParsedVersion {
  readonly canonical: string | undefined;
  readonly pinned: boolean;
  readonly details: Readonly<Record<string, string>>;
}

function parseVersion(ref: SecretRef): ParsedVersion {
  const version = ref.version;
  if (version === undefined || version === CURRENT_STAGE) {
    return { canonical: undefined, pinned: false, details: { versionStage: CURRENT_STAGE } };
  }
  if (version.startsWith(PINNED_PREFIX)) {
    const versionId = version.slice(PINNED_PREFIX.length);
    if (!VERSION_ID_PATTERN.test(versionId)) {
      throw invalid(
        ref,
        `version=${version}: a VersionId has 32 to 64 letters, digits and hyphens.`,
      );
    }
    return { canonical: version, pinned: true, details: { versionId } };
  }
  if (!STAGE_PATTERN.test(version)) {
    throw invalid(ref, `version=${version} is neither a staging label nor uuid/<VersionId>.`);
  }
  return { canonical: version, pinned: false, details: { versionStage: version } };
}

function invalid(ref: SecretRef, problem: string): PerimeterError {
  return new PerimeterError(
    'SECRET_INVALID_REF',
    `Invalid aws-sm reference ${ref.raw}: ${problem} ${EXPECTED_FORM}`,
    {
      context: { store: 'aws-sm', profile: ref.profile, reference: ref.raw },
    },
  );
}

function denied(ref: SecretRef, problem: string, key: string): PerimeterError {
  return new PerimeterError(
    'SECRET_REF_DENIED',
    `Reference ${ref.raw} is denied: ${problem} of profile ${ref.profile}. Add it to secretStores.${ref.profile}.${key} if Perimeter may read it.`,
    { context: { store: 'aws-sm', profile: ref.profile, reference: ref.raw, key } },
  );
}
