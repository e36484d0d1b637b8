// The Anaplan part of `npm run demo`: a certificate login (the certificate, its encrypted key and
// the key's passphrase are secret references), one model of 10,000 line items extracted to the
// catalog receiver, and what the simulator saw: no data endpoint, the token logged out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { makeUserCertificate } from '../fakes/anaplan/pki.ts';
import { startAnaplanSimulator } from '../fakes/anaplan/simulator.ts';
import { findCanary } from '../helpers/canary.ts';

/** What the demo shares with this part. */
export interface AnaplanDemoDeps {
  readonly dir: string;
  readonly catalog: CatalogReceiver;
  readonly perimeter: (
    args: string[],
    cwd: string,
    env: Record<string, string>,
  ) => Promise<{ code: number; out: string; err: string }>;
  readonly say: (text?: string) => unknown;
}

/** Runs the Anaplan demo; true when every step succeeded and the passphrase never left. */
export async function runAnaplanDemo(deps: AnaplanDemoDeps): Promise<boolean> {
  const { dir, catalog, perimeter, say } = deps;
  const passphrase = `anaplan-passphrase-${Date.now().toString(36)}`;
  const certificate = makeUserCertificate({ passphrase });
  const anaplan = await startAnaplanSimulator({
    certificates: [certificate.certificatePem],
    size: {
      workspaces: 1,
      modelsPerWorkspace: 2,
      modulesPerModel: 10,
      lineItemsPerModule: 500,
      archived: 1,
    },
  });
  try {
    const secrets = join(dir, 'anaplan-secrets');
    mkdirSync(secrets);
    writeFileSync(join(secrets, 'certificate.pem'), certificate.certificatePem, { mode: 0o600 });
    writeFileSync(join(secrets, 'private-key.pem'), certificate.privateKeyPem, { mode: 0o600 });
    writeFileSync(
      join(dir, 'anaplan.yaml'),
      [
        'agent: { logLevel: warn }',
        `catalog: { url: "${deps.catalog.url}", token: "file://${dir}/secrets/catalog-token" }`,
        'secretStores:',
        `  file: { type: file, allow: ["${dir}/secrets/*", "${secrets}/*"] }`,
        '  env: { type: env, allow: ["ANAPLAN_*"] }',
        'policy:',
        '  connectors:',
        `    anaplan: { allowHosts: [${anaplan.hosts.map((h) => `"${h}"`).join(', ')}] }`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'anaplan-job.yaml'),
      [
        'connector: anaplan',
        'operation: extract',
        'runId: demo-anaplan',
        'connection:',
        `  authUrl: ${anaplan.authUrl}`,
        `  apiUrl: ${anaplan.apiUrl}`,
        '  authMode: certificate',
        '  credentials:',
        `    certificate: file://${secrets}/certificate.pem`,
        `    privateKey: file://${secrets}/private-key.pem`,
        '    passphrase: env://ANAPLAN_KEY_PASSPHRASE',
        'params: {}',
        '',
      ].join('\n'),
    );
    const env = { PERIMETER_CONFIG: 'anaplan.yaml', ANAPLAN_KEY_PASSPHRASE: passphrase };
    say(`\nAnaplan simulator: auth ${anaplan.authUrl}, API ${anaplan.apiUrl}`);
    say('$ perimeter check anaplan-job.yaml');
    const check = await perimeter(['check', 'anaplan-job.yaml'], dir, env);
    say(check.out.trimEnd());
    say('$ perimeter run anaplan-job.yaml      # CA certificate login, v2 signed nonce');
    const run = await perimeter(['run', 'anaplan-job.yaml'], dir, env);
    say((run.out || run.err).trimEnd());
    const assets = catalog.batches('demo-anaplan').reduce((sum, batch) => sum + batch.assets, 0);
    const stats = anaplan.stats();
    // One login for the check, one for the run, each logged out.
    say(
      `  the catalog received ${String(assets)} Anaplan assets (a model of 5,000 line items, an archived model reported unopened)`,
    );
    say(
      `  Anaplan saw ${String(stats.certificateLogins)} certificate login(s), ${String(stats.logouts)} logout(s), ${String(anaplan.dataCalls().length)} data endpoint calls; ${String(anaplan.outstandingTokens())} tokens left open.`,
    );
    const output = check.out + check.err + run.out + run.err;
    const pushed = Buffer.concat(
      catalog.requests.map((request) =>
        request.headers['content-encoding'] === 'gzip' && request.outcome !== 'dropped'
          ? gunzipSync(request.body)
          : request.body,
      ),
    );
    const leaks = findCanary(passphrase, { output, pushed });
    say(
      `  Secret scan: the key passphrase appears ${leaks.length === 0 ? 'nowhere' : `in ${leaks.join(', ')}`} in what left the agent.`,
    );
    return (
      check.code === 0 &&
      run.code === 0 &&
      leaks.length === 0 &&
      anaplan.dataCalls().length === 0 &&
      anaplan.outstandingTokens() === 0
    );
  } finally {
    await anaplan.close();
  }
}
