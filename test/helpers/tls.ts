import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.ts';

/** A throwaway PKI for loopback TLS: a CA, a server certificate and a client certificate. */
export interface TestPki {
  readonly dir: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

let cached: TestPki | undefined;

/**
 * Creates (once per test file) a CA and certificates valid for localhost, 127.0.0.1 and ::1,
 * with the openssl CLI. Extra server names can be asked for (e.g. `vault.azure.net` names).
 */
export function testPki(): TestPki {
  cached ??= createPki();
  return cached;
}

function createPki(): TestPki {
  // Kept for the test file (its files are named in configs), like the PKI itself.
  const dir = tempDir('pki', { lifetime: 'file' });
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=Perimeter Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  issue(
    openssl,
    file,
    'server',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:*.vault.azure.net,DNS:*.localhost\nextendedKeyUsage=serverAuth',
  );
  issue(openssl, file, 'client', 'extendedKeyUsage=clientAuth');
  const read = (name: string): string => readFileSync(file(name), 'utf8');
  return {
    dir,
    caPem: read('ca.pem'),
    caFile: file('ca.pem'),
    serverCertPem: read('server.pem'),
    serverKeyPem: read('server.key'),
    clientCertPem: read('client.pem'),
    clientKeyPem: read('client.key'),
    clientCertFile: file('client.pem'),
    clientKeyFile: file('client.key'),
  };
}

function issue(
  openssl: (...args: string[]) => void,
  file: (name: string) => string,
  name: string,
  extensions: string,
): void {
  writeFileSync(file(`${name}.ext`), `${extensions}\n`);
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    file(`${name}.key`),
    '-out',
    file(`${name}.csr`),
    '-subj',
    `/CN=perimeter-test-${name}`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file(`${name}.pem`),
    '-days',
    '2',
    '-extfile',
    file(`${name}.ext`),
  );
}
