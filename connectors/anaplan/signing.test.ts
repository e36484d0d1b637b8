import { X509Certificate, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import { makeUserCertificate } from '../../test/fakes/anaplan/pki.ts';
import { NONCE_BYTES, certificateLogin } from './signing.ts';

const passphrase = 'signing-test-passphrase-93af';
const user = makeUserCertificate({ passphrase });
const other = makeUserCertificate({ commonName: 'someone-else' });
const credentials = {
  certificatePem: user.certificatePem,
  privateKeyPem: user.privateKeyPem,
  passphrase,
};
const nowMs = Date.parse('2026-12-04T06:00:00Z');

function failure(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('certificateLogin', () => {
  it('sends the PEM text base64-encoded and a SHA512withRSA signature the certificate verifies', () => {
    const login = certificateLogin(credentials, { format: 'v1', nowMs });
    const pem = Buffer.from(login.authorization.replace(/^CACertificate /, ''), 'base64');
    const certificate = new X509Certificate(pem.toString('utf8'));
    expect(pem.toString('utf8')).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/,
    );
    const data = Buffer.from(login.body.encodedData, 'base64');
    const signature = Buffer.from(login.body.encodedSignedData, 'base64');
    expect(verify('sha512', data, certificate.publicKey, signature)).toBe(true);
    expect(data).toHaveLength(NONCE_BYTES);
    expect(login.body).not.toHaveProperty('encodedDataFormat');
  });

  it('prefixes v2 data with the time in seconds as a big-endian 64-bit integer', () => {
    const login = certificateLogin(credentials, { format: 'v2', nowMs });
    const data = Buffer.from(login.body.encodedData, 'base64');
    expect(login.body.encodedDataFormat).toBe('v2');
    expect(data.readBigUInt64BE(0)).toBe(BigInt(nowMs / 1000));
    expect(data).toHaveLength(NONCE_BYTES);
  });

  it('signs a fresh nonce for every login', () => {
    const nonces = new Set(
      Array.from(
        { length: 5 },
        () => certificateLogin(credentials, { format: 'v2', nowMs }).body.encodedData,
      ),
    );
    expect(nonces.size).toBe(5);
  });

  it('names the signature check when the key does not belong to the certificate', () => {
    const error = failure(() =>
      certificateLogin(
        { certificatePem: user.certificatePem, privateKeyPem: other.privateKeyPem },
        { format: 'v2', nowMs },
      ),
    );
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect(error.message).toContain('signature check failed');
  });

  it('names the private key check for a wrong passphrase, without repeating it', () => {
    const error = failure(() =>
      certificateLogin(
        { ...credentials, passphrase: 'not-the-passphrase' },
        { format: 'v1', nowMs },
      ),
    );
    expect(isPerimeterError(error, 'SOURCE_AUTH_FAILED')).toBe(true);
    expect(error.message).toContain('private key check failed');
    expect(error.message).not.toContain('not-the-passphrase');
  });

  it('names the certificate check when the certificate is not PEM', () => {
    const error = failure(() =>
      certificateLogin(
        { ...credentials, certificatePem: 'not a certificate' },
        { format: 'v1', nowMs },
      ),
    );
    expect(error.message).toContain('certificate check failed');
  });
});
