import { crc32c } from '../../../secrets/gcp-sm/crc32c.ts';
import type { FakeGoogleIdentity } from './identity.ts';

/** A gRPC status the fake answers with, and its REST rendering. */
export interface FakeStatus {
  readonly grpcCode: number;
  readonly httpStatus: number;
  readonly status: string;
  readonly message: string;
}

/** The transient failures a fault switch can inject. */
export type TransientFault = 'UNAVAILABLE' | 'RESOURCE_EXHAUSTED';

/** What one AccessSecretVersion returns. */
export type AccessResult =
  | {
      readonly ok: true;
      readonly name: string;
      readonly data: Buffer;
      readonly crc32c: string | undefined;
    }
  | { readonly ok: false; readonly error: FakeStatus };

type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

interface Version {
  readonly data: Buffer;
  state: VersionState;
}

const STATUSES = {
  UNAUTHENTICATED: { grpcCode: 16, httpStatus: 401 },
  PERMISSION_DENIED: { grpcCode: 7, httpStatus: 403 },
  NOT_FOUND: { grpcCode: 5, httpStatus: 404 },
  FAILED_PRECONDITION: { grpcCode: 9, httpStatus: 400 },
  INVALID_ARGUMENT: { grpcCode: 3, httpStatus: 400 },
  RESOURCE_EXHAUSTED: { grpcCode: 8, httpStatus: 429 },
  UNAVAILABLE: { grpcCode: 14, httpStatus: 503 },
} as const;

function status(name: keyof typeof STATUSES, message: string): FakeStatus {
  return { ...STATUSES[name], status: name, message };
}

/** GCP answers with the project number, not the id, in resource names. */
export function projectNumber(project: string): string {
  if (/^\d+$/.test(project)) {
    return project;
  }
  let hash = 7;
  for (const char of project) {
    hash = (hash * 31 + char.charCodeAt(0)) % 900_000_000_000;
  }
  return String(100_000_000_000 + hash);
}

const VERSION_NAME =
  /^(projects\/[^/]+(?:\/locations\/([^/]+))?\/secrets\/[^/]+)\/versions\/([^/]+)$/;

/**
 * Secret Manager's state as the fake holds it: secrets with numbered versions (enabled, disabled
 * or destroyed), denied secrets, fault switches and counters. Both the REST and the gRPC
 * front ends answer from it, so their behaviour is the same by construction.
 */
export class FakeSecretManagerState {
  readonly identity: FakeGoogleIdentity;
  readonly #secrets = new Map<string, Version[]>();
  readonly #denied = new Set<string>();
  #failures = 0;
  #failAll = false;
  #fault: TransientFault = 'UNAVAILABLE';
  /** Milliseconds every access is held before it is answered. */
  delayMs = 0;
  /** Accesses held by {@link delayMs} right now (arrived, not yet answered). */
  held = 0;
  /** Sends a wrong `dataCrc32c` (a payload corrupted in transit). */
  corruptChecksum = false;
  /** Leaves `dataCrc32c` out, as versions created without a checksum do. */
  omitChecksum = false;
  /** AccessSecretVersion calls answered (served or failed), per transport. */
  readonly reads = { rest: 0, grpc: 0 };
  /** Calls whose bearer the fake did not accept. */
  unauthenticated = 0;
  /** How the last accepted caller authenticated. */
  lastPrincipal: string | undefined;
  /** The bearer of the last accepted call (to check that the client registered it for redaction). */
  lastBearer: string | undefined;

  constructor(identity: FakeGoogleIdentity) {
    this.identity = identity;
  }

  /** Adds a version to `secretName` (`projects/p/secrets/s`), creating the secret; returns its number. */
  addVersion(secretName: string, value: string | Buffer): number {
    const versions = this.#secrets.get(secretName) ?? [];
    versions.push({ data: Buffer.from(value), state: 'ENABLED' });
    this.#secrets.set(secretName, versions);
    return versions.length;
  }

  setVersionState(secretName: string, version: number, state: VersionState): void {
    const found = this.#secrets.get(secretName)?.[version - 1];
    if (found === undefined) {
      throw new Error(`no version ${version} of ${secretName}`);
    }
    found.state = state;
  }

  /** Deletes a secret with all its versions. */
  removeSecret(secretName: string): void {
    this.#secrets.delete(secretName);
  }

  deny(secretName: string): void {
    this.#denied.add(secretName);
  }

  failNext(count: number, fault: TransientFault = 'UNAVAILABLE'): void {
    this.#failures = count;
    this.#fault = fault;
  }

  failAll(fault: TransientFault = 'UNAVAILABLE'): void {
    this.#failAll = true;
    this.#fault = fault;
  }

  restore(): void {
    this.#failures = 0;
    this.#failAll = false;
    this.delayMs = 0;
    this.corruptChecksum = false;
    this.omitChecksum = false;
  }

  get readCount(): number {
    return this.reads.rest + this.reads.grpc;
  }

  /** One AccessSecretVersion on the endpoint serving `endpointLocation` ('' = global). */
  access(
    name: string,
    authorization: string | undefined,
    endpointLocation: string,
    transport: 'rest' | 'grpc',
  ): AccessResult {
    this.reads[transport] += 1;
    const principal = this.identity.verify(authorization);
    if (principal === undefined) {
      this.unauthenticated += 1;
      return {
        ok: false,
        error: status('UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
      };
    }
    this.lastPrincipal = `${principal.via}:${principal.email}`;
    this.lastBearer = authorization?.replace(/^Bearer\s+/i, '');
    if (this.#failAll || this.#failures > 0) {
      this.#failures = Math.max(0, this.#failures - 1);
      return { ok: false, error: status(this.#fault, 'The service is currently unavailable.') };
    }
    return this.#resolve(name, endpointLocation);
  }

  #resolve(name: string, endpointLocation: string): AccessResult {
    const parsed = VERSION_NAME.exec(name);
    if (parsed === null) {
      return {
        ok: false,
        error: status('INVALID_ARGUMENT', `Invalid resource field value in the request.`),
      };
    }
    const [, secretName = '', location = '', selector = ''] = parsed;
    if (this.#denied.has(secretName)) {
      return {
        ok: false,
        error: status(
          'PERMISSION_DENIED',
          "Permission 'secretmanager.versions.access' denied for resource (or it may not exist).",
        ),
      };
    }
    const versions = location === endpointLocation ? this.#secrets.get(secretName) : undefined;
    const number = selector === 'latest' ? (versions?.length ?? 0) : Number(selector);
    const version = versions?.[number - 1];
    if (version === undefined) {
      return {
        ok: false,
        error: status('NOT_FOUND', `Secret [${secretName}] not found or has no versions.`),
      };
    }
    const numbered = secretName.replace(
      /^projects\/([^/]+)/,
      (_, project: string) => `projects/${projectNumber(project)}`,
    );
    const resolved = `${numbered}/versions/${number}`;
    if (version.state !== 'ENABLED') {
      return {
        ok: false,
        error: status(
          'FAILED_PRECONDITION',
          `Secret Version [${resolved}] is in ${version.state} state.`,
        ),
      };
    }
    const checksum = crc32c(version.data) + (this.corruptChecksum ? 1 : 0);
    return {
      ok: true,
      name: resolved,
      data: version.data,
      crc32c: this.omitChecksum ? undefined : String(checksum),
    };
  }
}
