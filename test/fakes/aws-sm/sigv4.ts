import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** A key the fake knows: its secret half and, for temporary keys, the session token. */
export interface FakeAwsKey {
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Epoch ms after which the key is expired (temporary keys). */
  readonly expiresAt?: number;
}

/** The request as received, for verification. */
export interface SignedRequest {
  readonly method: string;
  /** The request target as sent (`/` for the JSON protocol). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What a verification found: the signer's scope, or the AWS error to answer. */
export type SigV4Verdict =
  | {
      readonly ok: true;
      readonly accessKeyId: string;
      readonly region: string;
      readonly service: string;
    }
  | { readonly ok: false; readonly errorType: string; readonly message: string };

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60_000;
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();
const fail = (errorType: string, message: string): SigV4Verdict => ({
  ok: false,
  errorType,
  message,
});

/**
 * Verifies an AWS Signature Version 4 `Authorization` header the way AWS does: recomputes the
 * canonical request and the signature with the known secret key, checks the credential scope,
 * the clock skew, the payload hash and the session token of temporary keys. Written from the
 * SigV4 specification, independently of the SDK's signer, so it can catch the SDK's mistakes too.
 */
export function verifySigV4(
  request: SignedRequest,
  lookup: (accessKeyId: string) => FakeAwsKey | undefined,
  expected: { readonly service: string; readonly regions: readonly string[] },
  now = Date.now(),
): SigV4Verdict {
  const authorization = request.headers.authorization;
  if (authorization === undefined) {
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const match = AUTH_PATTERN.exec(authorization);
  const [accessKeyId, date, region, service, terminator] = match?.[1]?.split('/') ?? [];
  if (match === null || accessKeyId === undefined || terminator !== 'aws4_request') {
    return fail(
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature.',
    );
  }
  const key = lookup(accessKeyId);
  const problem =
    checkKey(request, key, now) ?? checkScope(request, { date, region, service }, expected, now);
  if (problem !== undefined || key === undefined) {
    return problem ?? fail('UnrecognizedClientException', INVALID_TOKEN);
  }
  const payloadHash = sha256(request.body);
  const declaredHash = request.headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && declaredHash !== payloadHash) {
    return fail('InvalidSignatureException', MISMATCH);
  }
  const scope = [date ?? '', region ?? '', service ?? '', 'aws4_request'];
  const canonical = canonicalRequest(request, match[2] ?? '', payloadHash);
  const expectedSignature = Buffer.from(sign(key.secretAccessKey, scope, request, canonical));
  const given = Buffer.from(match[3] ?? '');
  if (given.length !== expectedSignature.length || !timingSafeEqual(given, expectedSignature)) {
    return fail('InvalidSignatureException', MISMATCH);
  }
  return { ok: true, accessKeyId, region: region ?? '', service: service ?? '' };
}

function checkKey(
  request: SignedRequest,
  key: FakeAwsKey | undefined,
  now: number,
): SigV4Verdict | undefined {
  const token = request.headers['x-amz-security-token'];
  if (key === undefined || (key.sessionToken !== undefined && token !== key.sessionToken)) {
    return fail('UnrecognizedClientException', INVALID_TOKEN);
  }
  if (key.expiresAt !== undefined && key.expiresAt <= now) {
    return fail('ExpiredTokenException', 'The security token included in the request is expired');
  }
  return undefined;
}

/** The hex signature: HMAC chain over the credential scope, then over the string to sign. */
function sign(
  secretAccessKey: string,
  scope: readonly string[],
  request: SignedRequest,
  canonical: string,
): string {
  const amzDate = String(request.headers['x-amz-date']);
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope.join('/'), sha256(canonical)].join('\n');
  const signingKey = scope.reduce<Buffer | string>(
    (current, part) => hmac(current, part),
    `AWS4${secretAccessKey}`,
  );
  return hmac(signingKey, stringToSign).toString('hex');
}

function checkScope(
  request: SignedRequest,
  scope: { readonly date?: string; readonly region?: string; readonly service?: string },
  expected: { readonly service: string; readonly regions: readonly string[] },
  now: number,
): SigV4Verdict | undefined {
  const amzDate = request.headers['x-amz-date'];
  const stamp = typeof amzDate === 'string' ? /^(\d{8})T(\d{6})Z$/.exec(amzDate) : null;
  if (stamp === null) {
    return fail(
      'IncompleteSignatureException',
      'Authorization header requires existence of either a X-Amz-Date or a Date header.',
    );
  }
  const [, day = '', time = ''] = stamp;
  const signedAt = Date.parse(
    `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4)}Z`,
  );
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return fail(
      'InvalidSignatureException',
      'Signature expired: the request time is too far from the server time.',
    );
  }
  if (scope.date !== day) {
    return fail(
      'InvalidSignatureException',
      'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.',
    );
  }
  if (scope.service !== expected.service) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${expected.service}'.`,
    );
  }
  if (scope.region === undefined || !expected.regions.includes(scope.region)) {
    return fail('InvalidSignatureException', 'Credential should be scoped to a valid region.');
  }
  return undefined;
}

function canonicalRequest(
  request: SignedRequest,
  signedHeaders: string,
  payloadHash: string,
): string {
  const [path = '/', query = ''] = request.url.split('?', 2);
  const canonicalUri = path
    .split('/')
    .map((segment) => encodeRfc3986(decodeURIComponent(segment)))
    .join('/');
  const canonicalQuery = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) =>
      pair
        .split('=', 2)
        .map((part) => encodeRfc3986(decodeURIComponent(part)))
        .join('='),
    )
    .sort()
    .join('&');
  const names = signedHeaders.split(';');
  const headerLines = names
    .map((name) => `${name}:${headerValue(request.headers[name])}\n`)
    .join('');
  return [
    request.method,
    canonicalUri,
    canonicalQuery,
    headerLines,
    signedHeaders,
    payloadHash,
  ].join('\n');
}

function headerValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
