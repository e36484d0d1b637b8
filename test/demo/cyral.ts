// The Cyral part of `npm run demo`: a control plane of 3 sidecars and 8 repositories extracted to
// the catalog receiver, the client secret from a file and the client id from the environment,
// then a scan of everything that left for the client secret, the tokens the control plane
// issued and the secrets planted in its answers (stored passwords, integration keys, certificate
// secret references).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startCyralSimulator } from '../fakes/cyral/simulator.ts';
import { findCanary } from '../helpers/canary.ts';
import type { AnaplanDemoDeps } from './anaplan.ts';

/** What the demo shares with this part (the same as with the Anaplan part). */
export type CyralDemoDeps = AnaplanDemoDeps;

/** Runs the Cyral demo; true when every step succeeded and no secret left. */
export async function runCyralDemo(deps: CyralDemoDeps): Promise<boolean> {
  const { dir, catalog, perimeter, say } = deps;
  const cyral = await startCyralSimulator({
    size: { sidecars: 3, repos: 8 },
    tokens: { issueRefreshTokens: true },
  });
  try {
    const secrets = join(dir, 'cyral-secrets');
    mkdirSync(secrets);
    writeFileSync(join(secrets, 'client-secret'), `${cyral.clientSecret}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'cyral.yaml'),
      [
        'agent: { logLevel: warn }',
        `catalog: { url: "${catalog.url}", token: "file://${dir}/secrets/catalog-token" }`,
        'secretStores:',
        `  file: { type: file, allow: ["${dir}/secrets/*", "${secrets}/*"] }`,
        '  env: { type: env, allow: ["CYRAL_*"] }',
        `policy: { connectors: { cyral: { allowHosts: ["${cyral.host}"] } } }`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'cyral-job.yaml'),
      [
        'connector: cyral',
        'operation: extract',
        'runId: demo-cyral',
        'connection:',
        `  baseUrl: ${cyral.url}`,
        '  credentials:',
        '    clientId: env://CYRAL_CLIENT_ID',
        `    clientSecret: file://${secrets}/client-secret`,
        'params: {}',
        '',
      ].join('\n'),
    );
    const env = { PERIMETER_CONFIG: 'cyral.yaml', CYRAL_CLIENT_ID: cyral.clientId };
    say(`\nCyral control-plane simulator ${cyral.url}`);
    say('$ perimeter run cyral-job.yaml');
    const run = await perimeter(['run', 'cyral-job.yaml'], dir, env);
    say((run.out || run.err).trimEnd());

    const batches = catalog.requests.filter((r) => r.path.includes('/demo-cyral/batches'));
    const pushed = Buffer.concat(batches.map((r) => gunzipSync(r.body)));
    const byType = new Map<string, number>();
    for (const line of pushed
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')) {
      const { typeName } = JSON.parse(line) as { typeName: string };
      byType.set(typeName, (byType.get(typeName) ?? 0) + 1);
    }
    say(
      `  ${[...byType]
        .sort()
        .map(([type, count]) => `${type} ${String(count)}`)
        .join(', ')}`,
    );

    const secretsHeld = [cyral.clientSecret, cyral.tenant.planted, ...cyral.issuedTokens()];
    const leaks = secretsHeld.flatMap((secret) =>
      findCanary(secret, { pushed, output: run.out + run.err }),
    );
    say(
      `  Secret scan: the Cyral client secret, ${String(cyral.issuedTokens().length)} issued tokens and the secrets planted in its answers appear ${leaks.length === 0 ? 'nowhere' : `in ${[...new Set(leaks)].join(', ')}`}; ${String(cyral.refused().length)} write attempts refused.`,
    );
    return run.code === 0 && leaks.length === 0 && cyral.refused().length === 0;
  } finally {
    await cyral.close();
  }
}
