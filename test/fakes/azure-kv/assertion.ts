import { constants, createHash, verify } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';

const CLOCK_SKEW_S = 300;

/**
 * Checks a certificate client assertion as Entra ID does: a JWT signed PS256 (or RS256) with the
 * registered certificate's key, naming that certificate by thumbprint (`x5t#S256` or `x5t`),
 * issued by and about the client, for this token endpoint, and not expired. Returns the AADSTS
 * error to answer, or undefined when the assertion holds.
 */
export function verifyClientAssertion(
  jwt: string,
  expected: {
    readonly certificate: X509Certificate;
    readonly clientId: string;
    readonly audience: string;
  },
): string | undefined {
  const [headerPart = '', payloadPart = '', signaturePart = '', extra] = jwt.split('.');
  if (extra !== undefined || signaturePart === '') {
    return 'AADSTS50027: JWT token is invalid or malformed.';
  }
  const header = parseJson(headerPart);
  const payload = parseJson(payloadPart);
  if (header === undefined || payload === undefined) {
    return 'AADSTS50027: JWT token is invalid or malformed.';
  }
  const der = expected.certificate.raw;
  const thumbprints = [
    header['x5t#S256'] === createHash('sha256').update(der).digest('base64url'),
    header['x5t'] === createHash('sha1').update(der).digest('base64url'),
  ];
  if (!thumbprints.some(Boolean)) {
    return 'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.';
  }
  const alg = header['alg'];
  if (alg !== 'PS256' && alg !== 'RS256') {
    return 'AADSTS5002738: Invalid JWT token. The algorithm is not supported.';
  }
  const signed = verify(
    'sha256',
    Buffer.from(`${headerPart}.${payloadPart}`),
    {
      key: expected.certificate.publicKey,
      padding: alg === 'PS256' ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    },
    Buffer.from(signaturePart, 'base64url'),
  );
  if (!signed) {
    return 'AADSTS700027: Client assertion failed signature validation.';
  }
  return checkClaims(payload, expected);
}

function checkClaims(
  payload: Record<string, unknown>,
  expected: { readonly clientId: string; readonly audience: string },
): string | undefined {
  const now = Date.now() / 1000;
  if (payload['iss'] !== expected.clientId || payload['sub'] !== expected.clientId) {
    return 'AADSTS700021: Client assertion application identifier does not match client_id.';
  }
  if (payload['aud'] !== expected.audience) {
    return 'AADSTS700212: No matching federated identity record found for presented assertion audience.';
  }
  const exp = payload['exp'];
  if (typeof exp !== 'number' || exp + CLOCK_SKEW_S < now) {
    return 'AADSTS700024: Client assertion is not within its valid time range.';
  }
  return undefined;
}

function parseJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
