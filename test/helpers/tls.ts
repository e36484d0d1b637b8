import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The names every loopback server certificate is valid for. */
export const LOOPBACK_NAMES =
  'DNS:localhost,IP:127.0.0.1,IP:::1,DNS:*.vault.azure.net,DNS:*.localhost';

let cached: TestPki | undefined;

/**
 * Creates (once per test process) a CA and certificates valid for localhost, 127.0.0.1 and ::1,
 * with the openssl CLI. Extra server names can be asked for (e.g. `vault.azure.net` names).
 */
export function testPki(): TestPki {
  cached ??= createPki();
  return cached;
}

function createPki(): TestPki {
  // Kept for the test file (its files are named in configs), like the PKI itself.
  const dir = tempDir('pki', { lifetime: 'file' });
  const ca = createCa(dir, 'ca', 'Perimeter Test CA');
  const server = issueCertificate(ca, 'server', {
    extensions: `subjectAltName=${LOOPBACK_NAMES}\nextendedKeyUsage=serverAuth`,
  });
  const client = issueCertificate(ca, 'client', { extensions: 'extendedKeyUsage=clientAuth' });
  return {
    dir,
    caPem: ca.certPem,
    caFile: ca.certFile,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    clientCertFile: client.certFile,
    clientKeyFile: client.keyFile,
  };
}

/** A certificate and its key, as PEM text and as files. */
export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A CA that can issue certificates; its files live in `dir`. */
export interface TestCa extends IssuedCertificate {
  readonly dir: string;
  readonly name: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Creates a self-signed CA named `/CN=<commonName>` in `dir`, its files prefixed `name`. */
export function createCa(dir: string, name: string, commonName: string): TestCa {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  openssl(
    dir,
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  return { dir, name, ...readIssued(certFile, keyFile) };
}

/**
 * Issues `/CN=perimeter-test-<name>` from `ca` with the given x509v3 extensions. `validity`
 * (openssl `YYYYMMDDHHMMSSZ` dates) makes an expired or not-yet-valid certificate.
 */
export function issueCertificate(
  ca: TestCa,
  name: string,
  options: {
    readonly extensions: string;
    readonly validity?: { readonly start: string; readonly end: string };
  },
): IssuedCertificate {
  const file = (suffix: string): string => join(ca.dir, `${name}.${suffix}`);
  writeFileSync(file('ext'), `${options.extensions}\n`);
  openssl(
    ca.dir,
    'req',
    ...ecKey,
    '-keyout',
    file('key'),
    '-out',
    file('csr'),
    '-subj',
    `/CN=perimeter-test-${name}`,
  );
  if (options.validity === undefined) {
    openssl(
      ca.dir,
      'x509',
      '-req',
      '-in',
      file('csr'),
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-CAcreateserial',
      '-out',
      file('pem'),
      '-days',
      '2',
      '-extfile',
      file('ext'),
    );
  } else {
    signWithDates(ca, file, options.validity);
  }
  return readIssued(file('pem'), file('key'));
}

/** `openssl x509` cannot backdate; `openssl ca` can, given a minimal database. */
function signWithDates(
  ca: TestCa,
  file: (suffix: string) => string,
  validity: { readonly start: string; readonly end: string },
): void {
  const config = join(ca.dir, `${ca.name}.cnf`);
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      `database = ${join(ca.dir, `${ca.name}.index`)}`,
      `new_certs_dir = ${ca.dir}`,
      `serial = ${join(ca.dir, `${ca.name}.serial`)}`,
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  writeFileSync(join(ca.dir, `${ca.name}.index`), '', { flag: 'a' });
  if (!existsSync(join(ca.dir, `${ca.name}.serial`))) {
    writeFileSync(join(ca.dir, `${ca.name}.serial`), '1000\n');
  }
  openssl(
    ca.dir,
    'ca',
    '-batch',
    '-notext',
    '-config',
    config,
    '-cert',
    ca.certFile,
    '-keyfile',
    ca.keyFile,
    '-in',
    file('csr'),
    '-out',
    file('pem'),
    '-startdate',
    validity.start,
    '-enddate',
    validity.end,
    '-extfile',
    file('ext'),
  );
}

function readIssued(certFile: string, keyFile: string): IssuedCertificate {
  return {
    certPem: readFileSync(certFile, 'utf8'),
    keyPem: readFileSync(keyFile, 'utf8'),
    certFile,
    keyFile,
  };
}
