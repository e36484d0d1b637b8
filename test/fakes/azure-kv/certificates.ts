import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** An RSA client certificate for Entra's certificate credential (MSAL signs PS256: RSA only). */
export interface ClientCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** Certificate and key in one PEM, the form ClientCertificateCredential reads. */
  readonly combinedPem: string;
}

const cache = new Map<string, ClientCertificate>();

/** Creates (once per label and process) a self-signed RSA 2048 certificate with openssl. */
export function rsaClientCertificate(label = 'perimeter-test-app'): ClientCertificate {
  const cached = cache.get(label);
  if (cached !== undefined) {
    return cached;
  }
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-entra-cert-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      `/CN=${label}`,
    ],
    { stdio: 'ignore' },
  );
  const certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const privateKeyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const created = {
    certificatePem,
    privateKeyPem,
    combinedPem: `${certificatePem}${privateKeyPem}`,
  };
  cache.set(label, created);
  return created;
}
