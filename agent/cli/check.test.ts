import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import { startFakeControlPlane } from '../../test/fakes/control-plane/server.ts';
import type { FakeControlPlane } from '../../test/fakes/control-plane/server.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { captureIo } from '../../test/helpers/cli-io.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { fixtureRegistry } from '../../test/helpers/run-world.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';
import { REDIS_URL, uniquePrefix } from '../../test/integration/support/redis.ts';
import { runCli } from './cli.ts';

const catalogToken = makeCanary('catalog-token');
const agentToken = makeCanary('agent-token');
let dir: string;
let catalog: CatalogReceiver;
let controlPlane: FakeControlPlane;

beforeAll(async () => {
  dir = tempDir('cli-check');
  catalog = await startCatalogReceiver({ token: catalogToken });
  controlPlane = await startFakeControlPlane({ token: agentToken });
  writeFileSync(join(dir, 'catalog-token'), catalogToken);
  writeFileSync(join(dir, 'wrong-catalog-token'), makeCanary('wrong-token'));
  writeFileSync(join(dir, 'agent-token'), agentToken);
  writeFileSync(join(dir, 'wrong-agent-token'), makeCanary('wrong-token'));
});

afterAll(async () => {
  await Promise.all([catalog.close(), controlPlane.close()]);
});

interface Settings {
  readonly catalogToken?: string;
  readonly agentToken?: string;
  readonly redisUrl?: string;
  readonly controlPlane?: boolean;
}

/** Writes a config with the agent's own references and runs `perimeter check` on it. */
async function check(
  name: string,
  settings: Settings = {},
): Promise<{ code: number; stdout: string; all: string }> {
  const withControlPlane = settings.controlPlane ?? true;
  const yaml = [
    'agent:',
    '  id: check-agent',
    'catalog:',
    `  url: ${catalog.url}`,
    `  token: ${settings.catalogToken ?? `file://${dir}/catalog-token`}`,
    ...(withControlPlane
      ? [
          'controlPlane:',
          `  url: ${controlPlane.url}`,
          `  agentToken: ${settings.agentToken ?? `file://${dir}/agent-token`}`,
        ]
      : []),
    'secretStores:',
    `  file: { type: file, allow: ["${dir}/*"] }`,
    '  env: { type: env, allow: ["NO_AGENT_*"] }',
    'redis:',
    `  url: ${settings.redisUrl ?? REDIS_URL}`,
    `  prefix: ${uniquePrefix('check')}`,
  ].join('\n');
  writeFileSync(join(dir, name), `${yaml}\n`);
  const io = captureIo({ PERIMETER_CONFIG: name }, dir);
  const code = await runCli(['check'], io, fixtureRegistry);
  const all = io.text();
  expect(findCanary(catalogToken, { all })).toEqual([]);
  expect(findCanary(agentToken, { all })).toEqual([]);
  return { code, stdout: io.out.join(''), all };
}

describe('perimeter check of the agent itself', () => {
  it('resolves its own references, authenticates to both services and reaches Redis', async () => {
    const before = controlPlane.records.requests.length;
    const result = await check('good.yaml');
    expect(result.stdout).not.toMatch(/^FAIL/m);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {4}secret +catalog\.token +resolvable: file:\/\//m);
    expect(result.stdout).toMatch(
      /^ok {4}secret +controlPlane\.agentToken +resolvable: file:\/\//m,
    );
    expect(result.stdout).toMatch(/^ok {4}auth +catalog +catalog\.token accepted/m);
    expect(result.stdout).toMatch(
      /^ok {4}auth +controlPlane +controlPlane\.agentToken accepted for agent check-agent/m,
    );
    // The test Redis runs without persistence: reported, and a warning rather than a failure.
    expect(result.stdout).toMatch(
      /^WARN {2}redis +redis\.url +reachable \(redis 127\.0\.0\.1:6379 db 0\), maxmemory-policy noeviction, persistence off; warning: persistence is off/m,
    );
    const calls = controlPlane.records.requests
      .slice(before)
      .map((request) => `${request.method} ${request.path}`);
    expect(calls).toContain('GET /v1/agents/check-agent');
    expect(
      calls.filter((call) => call.includes('instructions') || call.includes('heartbeat')),
    ).toEqual([]);
    expect(catalog.requests.some((request) => request.path === '/v1/whoami')).toBe(true);
  });

  it('fails a catalog token the catalog refuses, naming catalog.token', async () => {
    const result = await check('wrong-catalog.yaml', {
      catalogToken: `file://${dir}/wrong-catalog-token`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^FAIL {2}auth +catalog +SINK_REJECTED: The catalog refused the token of catalog\.token \(HTTP 401\)/m,
    );
  });

  it('fails a catalog token file that is missing, naming the setting and the path', async () => {
    const missing = join(dir, 'no-such-token');
    const result = await check('missing-catalog.yaml', { catalogToken: `file://${missing}` });
    expect(result.code).toBe(1);
    const line = result.stdout
      .split('\n')
      .find((text) => /^FAIL {2}secret +catalog\.token /.test(text));
    expect(line).toBeDefined();
    expect(line).toContain(missing);
    // The token that did not resolve is not sent to the catalog.
    expect(result.stdout).not.toMatch(/auth +catalog/);
  });

  it('fails an agent-token reference that does not resolve, naming controlPlane.agentToken', async () => {
    const result = await check('unresolved-agent.yaml', {
      agentToken: 'env://NO_AGENT_TOKEN_HERE',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}secret +controlPlane\.agentToken +SECRET_NOT_FOUND/m);
  });

  it('fails an agent token the control plane refuses, naming controlPlane.agentToken', async () => {
    const result = await check('wrong-agent.yaml', {
      agentToken: `file://${dir}/wrong-agent-token`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^FAIL {2}auth +controlPlane +CONTROL_PLANE_REJECTED: .*controlPlane\.agentToken/m,
    );
  });

  it('fails when Redis cannot be reached, naming redis.url', async () => {
    const port = await freePort();
    const result = await check('redis-down.yaml', { redisUrl: `redis://127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}redis +redis\.url +REDIS_UNAVAILABLE: .*redis\.url/m);
  });

  it('says Redis is not used without a control plane or config jobs', async () => {
    const port = await freePort();
    const result = await check('one-shot.yaml', {
      controlPlane: false,
      redisUrl: `redis://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {4}redis +redis\.url +not used/m);
  });
});
