import { X509Certificate, createPrivateKey, randomBytes, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PerimeterError } from '../../agent/plugin-api/index.ts';

// Anaplan's CA-certificate login, as pure functions of the credentials, the clock and a source
// of randomness: the `CACertificate` header and the signed nonce of `POST /token/authenticate`.

/** `v1`: a random nonce; `v2`: an 8-byte big-endian Unix time in seconds, then random bytes. */
export type EncodedDataFormat = 'v1' | 'v2';

/** Bytes of the signed data: Anaplan's own client sends 150 (it accepts 100 to 200). */
export const NONCE_BYTES = 150;
const TIMESTAMP_BYTES = 8;

/** The certificate credentials, revealed only for the length of one login. */
export interface CertificateCredentials {
  /** The X.509 certificate, PEM. */
  readonly certificatePem: string;
  /** Its RSA private key, PEM (PKCS#8 or PKCS#1, optionally encrypted). */
  readonly privateKeyPem: string;
  readonly passphrase?: string;
}

/** What `POST /token/authenticate` carries for a certificate login. */
export interface CertificateLogin {
  /** `CACertificate <base64 of the certificate's PEM text>`. */
  readonly authorization: string;
  readonly body: {
    readonly encodedDataFormat?: 'v2';
    readonly encodedData: string;
    readonly encodedSignedData: string;
  };
}

/** Where the signed data comes from; tests pin both. */
export interface SigningInputs {
  readonly format: EncodedDataFormat;
  readonly nowMs: number;
  readonly random?: (size: number) => Buffer;
}

/**
 * Builds one certificate login: a fresh nonce (so every login differs and none can be
 * replayed), signed SHA512withRSA with the private key, and checked against the certificate's
 * public key before it leaves, so that a key that does not belong to the certificate is named
 * as such instead of as a refusal by Anaplan.
 */
export function certificateLogin(
  credentials: CertificateCredentials,
  inputs: SigningInputs,
): CertificateLogin {
  const certificate = readCertificate(credentials.certificatePem);
  const key = readPrivateKey(credentials);
  const data = signedData(inputs);
  const signature = sign('sha512', data, key);
  if (!verify('sha512', data, certificate.publicKey, signature)) {
    throw authFailure(
      'the signature check failed: the private key does not belong to the certificate. Store the key pair of the certificate registered in Anaplan.',
    );
  }
  return {
    authorization: `CACertificate ${Buffer.from(certificate.toString()).toString('base64')}`,
    body: {
      ...(inputs.format === 'v2' ? { encodedDataFormat: 'v2' as const } : {}),
      encodedData: data.toString('base64'),
      encodedSignedData: signature.toString('base64'),
    },
  };
}

/** The bytes to sign: random, prefixed by the time in seconds for `v2`. */
export function signedData(inputs: SigningInputs): Buffer {
  const random = inputs.random ?? randomBytes;
  if (inputs.format === 'v1') {
    return random(NONCE_BYTES);
  }
  const timestamp = Buffer.alloc(TIMESTAMP_BYTES);
  timestamp.writeBigUInt64BE(BigInt(Math.floor(inputs.nowMs / 1000)));
  return Buffer.concat([timestamp, random(NONCE_BYTES - TIMESTAMP_BYTES)]);
}

function readCertificate(pem: string): X509Certificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    throw authFailure('the certificate check failed: it is not a PEM-encoded X.509 certificate.');
  }
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
    throw authFailure(
      'the certificate check failed: its key is not RSA (Anaplan verifies SHA512withRSA).',
    );
  }
  return certificate;
}

function readPrivateKey(credentials: CertificateCredentials): KeyObject {
  try {
    return createPrivateKey({
      key: credentials.privateKeyPem,
      format: 'pem',
      ...(credentials.passphrase === undefined ? {} : { passphrase: credentials.passphrase }),
    });
  } catch {
    throw authFailure(
      'the private key check failed: it could not be read. Check that it is a PEM RSA key and, when it is encrypted, that the passphrase is the right one.',
    );
  }
}

function authFailure(detail: string): PerimeterError {
  return new PerimeterError('SOURCE_AUTH_FAILED', `Anaplan certificate login: ${detail}`, {
    context: { endpoint: 'POST /token/authenticate', authMode: 'certificate' },
  });
}
