import { randomBytes, randomUUID } from 'node:crypto';

interface StoredVersion {
  readonly versionId: string;
  readonly value: string | Buffer;
  readonly createdAt: number;
  readonly stages: Set<string>;
}

interface StoredSecret {
  readonly name: string;
  readonly region: string;
  readonly arn: string;
  readonly versions: StoredVersion[];
  denied: boolean;
  scheduledForDeletion: boolean;
}

/** An AWS error answer: HTTP status, `__type` and message. */
export class AwsError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/** The GetSecretValue request body. */
export interface GetSecretValueInput {
  readonly SecretId: string;
  readonly VersionId?: string;
  readonly VersionStage?: string;
}

/**
 * What the Secrets Manager fake holds: secrets per region, their versions and staging labels,
 * denies and scheduled deletions, and GetSecretValue over that state with AWS's error shapes.
 */
export class SecretsManagerState {
  readonly account: string;
  readonly regions: readonly string[];
  readonly #secrets = new Map<string, StoredSecret>();

  constructor(account: string, regions: readonly string[]) {
    this.account = account;
    this.regions = regions;
  }

  /** Creates a secret or adds a version: the new one becomes AWSCURRENT, the old AWSPREVIOUS. */
  put(
    name: string,
    value: string | Buffer,
    region = this.#home(),
  ): { arn: string; versionId: string } {
    const key = `${region}/${name}`;
    let secret = this.#secrets.get(key);
    if (secret === undefined) {
      const suffix = randomBytes(6).toString('base64url').slice(0, 6);
      const arn = `arn:aws:secretsmanager:${region}:${this.account}:secret:${name}-${suffix}`;
      secret = { name, region, arn, versions: [], denied: false, scheduledForDeletion: false };
      this.#secrets.set(key, secret);
    }
    for (const version of secret.versions) {
      version.stages.delete('AWSPREVIOUS');
      if (version.stages.delete('AWSCURRENT')) {
        version.stages.add('AWSPREVIOUS');
      }
    }
    const versionId = randomUUID();
    const stored = typeof value === 'string' ? value : Buffer.from(value);
    secret.versions.push({
      versionId,
      value: stored,
      createdAt: Date.now(),
      stages: new Set(['AWSCURRENT']),
    });
    return { arn: secret.arn, versionId };
  }

  /** Moves a staging label onto a version (as UpdateSecretVersionStage does). */
  setStage(name: string, stage: string, versionId: string, region = this.#home()): void {
    const secret = this.#secret(name, region);
    for (const version of secret.versions) {
      version.stages.delete(stage);
    }
    secret.versions.find((version) => version.versionId === versionId)?.stages.add(stage);
  }

  /** Deletes a secret at once (ForceDeleteWithoutRecovery). */
  remove(name: string, region = this.#home()): void {
    this.#secrets.delete(`${region}/${name}`);
  }

  /** Schedules a deletion: reads answer InvalidRequestException until then. */
  scheduleDeletion(name: string, region = this.#home()): void {
    this.#secret(name, region).scheduledForDeletion = true;
  }

  /** Makes reads of this secret answer AccessDeniedException (a resource policy or ABAC deny). */
  deny(name: string, region = this.#home()): void {
    this.#secret(name, region).denied = true;
  }

  /** GetSecretValue as the regional endpoint `region` answers it; throws {@link AwsError}. */
  getSecretValue(input: GetSecretValueInput, region: string): Record<string, unknown> {
    const secret = this.#find(input.SecretId, region);
    if (secret === undefined) {
      throw new AwsError(
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    if (secret.denied) {
      throw new AwsError(
        400,
        'AccessDeniedException',
        `User: arn:aws:sts::${this.account}:assumed-role/perimeter/session is not authorized to perform: secretsmanager:GetSecretValue on resource: ${input.SecretId} because no resource-based policy allows the secretsmanager:GetSecretValue action`,
      );
    }
    if (secret.scheduledForDeletion) {
      throw new AwsError(
        400,
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    const version = this.#version(secret, input);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...(typeof version.value === 'string'
        ? { SecretString: version.value }
        : { SecretBinary: version.value.toString('base64') }),
      VersionStages: [...version.stages],
      CreatedDate: version.createdAt / 1000,
    };
  }

  #version(secret: StoredSecret, input: GetSecretValueInput): StoredVersion {
    const { VersionId: id } = input;
    // A VersionId alone selects that version; a stage (AWSCURRENT by default) must also match.
    const stage = id === undefined ? (input.VersionStage ?? 'AWSCURRENT') : input.VersionStage;
    const version = secret.versions.find(
      (candidate) =>
        (id === undefined || candidate.versionId === id) &&
        (stage === undefined || candidate.stages.has(stage)),
    );
    if (version === undefined) {
      const what = id === undefined ? `staging label: ${stage ?? ''}` : `VersionId: ${id}`;
      throw new AwsError(
        400,
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${what}`,
      );
    }
    return version;
  }

  #home(): string {
    return this.regions[0] ?? 'us-east-1';
  }

  #secret(name: string, region: string): StoredSecret {
    const secret = this.#secrets.get(`${region}/${name}`);
    if (secret === undefined) {
      throw new Error(`The fake holds no secret ${name} in ${region}`);
    }
    return secret;
  }

  // A SecretId is a name, a full ARN or a partial ARN (without the 6-character suffix).
  #find(secretId: string, region: string): StoredSecret | undefined {
    for (const secret of this.#secrets.values()) {
      if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) {
        return secret.region === region ? secret : undefined;
      }
    }
    return this.#secrets.get(`${region}/${secretId}`);
  }
}

/** Parses a GetSecretValue body as AWS validates it. */
export function parseGetSecretValueInput(body: Buffer): GetSecretValueInput {
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsError(
      400,
      'SerializationException',
      'Start of structure or map found where not expected.',
    );
  }
  const record = (typeof input === 'object' && input !== null ? input : {}) as Record<
    string,
    unknown
  >;
  const text = (key: string): string | undefined =>
    typeof record[key] === 'string' ? record[key] : undefined;
  const secretId = text('SecretId');
  if (secretId === undefined || secretId === '') {
    throw new AwsError(400, 'InvalidParameterException', 'SecretId is required.');
  }
  return { SecretId: secretId, VersionId: text('VersionId'), VersionStage: text('VersionStage') };
}
