import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its RSA private key, both PEM, as an Anaplan user would hold them. */
export interface UserCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/**
 * Makes an RSA-2048 key pair and a self-signed X.509 certificate for it with the openssl CLI
 * (node:crypto reads certificates but cannot issue them). With a passphrase the key is written
 * encrypted (PKCS#8, AES-256-CBC); the passphrase goes through the environment, not argv.
 * The temporary folder is removed before returning.
 */
export function makeUserCertificate(
  options: { readonly commonName?: string; readonly passphrase?: string } = {},
): UserCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-anaplan-cert-'));
  try {
    const keyFile = join(dir, 'user.key');
    const certFile = join(dir, 'user.pem');
    const keyProtection =
      options.passphrase === undefined ? ['-noenc'] : ['-passout', 'env:ANAPLAN_KEY_PASSPHRASE'];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        ...keyProtection,
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        `/CN=${options.commonName ?? 'perimeter-test-anaplan-user'}`,
      ],
      {
        stdio: 'ignore',
        env: { ...process.env, ANAPLAN_KEY_PASSPHRASE: options.passphrase ?? '' },
      },
    );
    return {
      certificatePem: readFileSync(certFile, 'utf8'),
      privateKeyPem: readFileSync(keyFile, 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
