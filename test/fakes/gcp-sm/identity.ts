import { generateKeyPairSync, randomBytes, randomUUID, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** The scope the Secret Manager client asks for. */
export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/** A service-account key as `gcloud iam service-accounts keys create` writes it. */
export interface ServiceAccountKey {
  readonly email: string;
  readonly keyId: string;
  /** The key file's JSON text (holds the private key: a secret). */
  readonly json: string;
}

/** Who a bearer stands for, once verified. */
export interface Principal {
  readonly email: string;
  /** How the caller authenticated: a self-signed JWT, a federated or an impersonated token. */
  readonly via: 'self-signed-jwt' | 'federated' | 'impersonated';
}

interface IssuedToken {
  readonly principal: Principal;
  readonly expiresAtMs: number;
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The fake's Google identity side: service-account keys whose self-signed JWTs it verifies
 * (RS256 with the account's public key, `scope` and `exp` claims), and the access tokens its
 * STS and IAM Credentials endpoints issue. Tokens really expire.
 */
export class FakeGoogleIdentity {
  readonly #publicKeys = new Map<string, { email: string; key: KeyObject }>();
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #subjectTokens = new Set<string>();
  tokenTtlSeconds = 3600;

  /** Creates a service account with a fresh RSA key and returns its key file. */
  createServiceAccount(email: string): ServiceAccountKey {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = randomBytes(20).toString('hex');
    this.#publicKeys.set(keyId, { email, key: publicKey });
    const json = JSON.stringify({
      type: 'service_account',
      project_id: email.split('@')[1]?.split('.')[0] ?? 'project',
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: '1234567890',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://oauth2.googleapis.com/token',
    });
    return { email, keyId, json };
  }

  /** Revokes a key: JWTs signed with it are refused from now on. */
  deleteKey(keyId: string): void {
    this.#publicKeys.delete(keyId);
  }

  /** Registers a workload's subject token (what the pod's projected token file holds). */
  trustSubjectToken(token: string): void {
    this.#subjectTokens.add(token);
  }

  isTrustedSubjectToken(token: string): boolean {
    return this.#subjectTokens.has(token);
  }

  /** Issues an access token for `principal`. */
  issue(principal: Principal): { token: string; expiresAtMs: number } {
    const token = `ya29.fake-${randomUUID()}`;
    const expiresAtMs = Date.now() + this.tokenTtlSeconds * 1000;
    this.#tokens.set(token, { principal, expiresAtMs });
    return { token, expiresAtMs };
  }

  /** Verifies an `authorization` header; undefined when it proves nothing. */
  verify(authorization: string | undefined): Principal | undefined {
    const bearer = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    if (bearer === undefined) {
      return undefined;
    }
    const issued = this.#tokens.get(bearer);
    if (issued !== undefined) {
      return issued.expiresAtMs > Date.now() ? issued.principal : undefined;
    }
    return this.#verifySelfSignedJwt(bearer);
  }

  #verifySelfSignedJwt(jwt: string): Principal | undefined {
    const [head, body, signature] = jwt.split('.');
    if (head === undefined || body === undefined || signature === undefined) {
      return undefined;
    }
    const header = decodeSegment(head);
    const claims = decodeSegment(body);
    const signer = this.#publicKeys.get(String(header?.['kid']));
    if (header?.['alg'] !== 'RS256' || claims === undefined || signer === undefined) {
      return undefined;
    }
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${head}.${body}`),
      signer.key,
      Buffer.from(signature, 'base64url'),
    );
    const scopes = typeof claims['scope'] === 'string' ? claims['scope'].split(' ') : [];
    const fresh = typeof claims['exp'] === 'number' && claims['exp'] * 1000 > Date.now();
    const issuer = claims['iss'] === signer.email && claims['sub'] === signer.email;
    if (!signed || !fresh || !issuer || !scopes.includes(CLOUD_PLATFORM)) {
      return undefined;
    }
    return { email: signer.email, via: 'self-signed-jwt' };
  }
}
