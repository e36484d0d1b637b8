import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import { startFixtureSource } from '../../test/fakes/fixture/source.ts';
import type { FixtureSource } from '../../test/fakes/fixture/source.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { captureIo } from '../../test/helpers/cli-io.ts';
import { fixtureRegistry } from '../../test/helpers/run-world.ts';
import { runCli } from './cli.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

const canary = makeCanary('cli-secret');
let dir: string;
let source: FixtureSource;
let receiver: CatalogReceiver;
/** One source on two hosts: tokens from `auth`, data from `api`. */
let twoHosts: { auth: FixtureSource; api: FixtureSource };
/** A third loopback host, inside the operator's allowHosts but declared by no connection. */
let elsewhere: { server: Server; url: string; connections: number };

beforeAll(async () => {
  dir = tempDir('cli');
  source = await startFixtureSource({ items: 321, secret: canary });
  receiver = await startCatalogReceiver({});
  const tokens = new Set<string>();
  twoHosts = {
    auth: await startFixtureSource({ items: 0, secret: canary, tokens }),
    api: await startFixtureSource({ items: 75, secret: canary, tokens }),
  };
  elsewhere = await countingListener();
  writeFileSync(
    join(dir, 'config.yaml'),
    `catalog:\n  url: ${receiver.url}\npolicy:\n  connectors:\n    fixture:\n      allowHosts: ["127.0.0.1:*"]\n`,
  );
});

afterAll(async () => {
  await Promise.all([
    source.close(),
    receiver.close(),
    twoHosts.auth.close(),
    twoHosts.api.close(),
  ]);
  await new Promise((resolve) => elsewhere.server.close(resolve));
});

/** A TCP listener that counts connections: proof that nothing reached a refused host. */
async function countingListener(): Promise<typeof elsewhere> {
  const server = createServer((socket) => {
    listener.connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const listener = {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: 0,
  };
  return listener;
}

function twoHostJob(extra = ''): string {
  return `connector: fixture\nconnection:\n  baseUrl: ${twoHosts.api.url}\n  authUrl: ${twoHosts.auth.url}\n  credentials:\n    secret: env://FIXTURE_SECRET\n${extra}`;
}

function job(name: string, body: string): string {
  writeFileSync(join(dir, name), body);
  return name;
}

function fixtureJob(credentials = 'secret: env://FIXTURE_SECRET', extra = ''): string {
  return `connector: fixture\nconnection:\n  baseUrl: ${source.url}\n  credentials:\n    ${credentials}\n${extra}`;
}

async function cli(
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string; all: string }> {
  const io = captureIo({ FIXTURE_SECRET: canary, PERIMETER_CONFIG: 'config.yaml' }, dir);
  const code = await runCli(argv, io, fixtureRegistry);
  return { code, stdout: io.out.join(''), stderr: io.err.join(''), all: io.text() };
}

describe('perimeter run', () => {
  it('pushes the job to the catalog and prints a summary', async () => {
    const result = await cli(
      'run',
      job('ok.yaml', fixtureJob('secret: env://FIXTURE_SECRET', 'runId: cli-ok\n')),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /run cli-ok \(fixture extract\) succeeded: 321 assets in \d+ batches/,
    );
    expect(receiver.completes.some((c) => c.runId === 'cli-ok' && c.assets === 321)).toBe(true);
    expect(findCanary(canary, { output: result.all })).toEqual([]);
  });

  it('writes batches to --output instead of pushing them', async () => {
    const before = receiver.requests.length;
    const result = await cli(
      'run',
      job('out.yaml', fixtureJob('secret: env://FIXTURE_SECRET', 'runId: cli-out\n')),
      '--output',
      'out',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(receiver.requests.length).toBe(before);
    const files = readdirSync(join(dir, 'out', 'cli-out'));
    expect(files).toContain('manifest.json');
    const manifest = JSON.parse(
      readFileSync(join(dir, 'out', 'cli-out', 'manifest.json'), 'utf8'),
    ) as { assets: number };
    expect(manifest.assets).toBe(321);
    const written = files
      .filter((f) => f.endsWith('.ndjson'))
      .map((f) => readFileSync(join(dir, 'out', 'cli-out', f), 'utf8'));
    expect(written.join('').trim().split('\n')).toHaveLength(321);
    expect(findCanary(canary, { files: written.join(''), output: result.all })).toEqual([]);
  });
});

describe('bad input', () => {
  const cases: [string, () => Promise<{ code: number; stderr: string }>, RegExp[]][] = [
    [
      'a job file that is not YAML',
      () => cli('run', job('bad-yaml.yaml', 'connector: fixture\nconnection: { baseUrl: "x\n')),
      [/JOB_INVALID/, /line \d+, column \d+/],
    ],
    [
      'a job file with unknown and missing keys',
      () => cli('run', job('bad-keys.yaml', 'connecter: fixture\nconnection: { a: 1 }\n')),
      [/JOB_INVALID/, /connecter: unknown key/, /- connector:/],
    ],
    [
      'an unknown connector',
      () => cli('run', job('unknown.yaml', 'connector: nosuch\nconnection: {}\n')),
      [/JOB_INVALID/, /connector: No connector named "nosuch"; known: fixture/],
    ],
    [
      'a reference with its query after the fragment',
      () =>
        cli('run', job('frag.yaml', fixtureJob('secret: "env://FIXTURE_SECRET#key?version=2"'))),
      [/connection\.credentials\.secret/, /SECRET_INVALID_REF/, /before/],
    ],
    [
      'a reference with a credential-looking param',
      () =>
        cli('run', job('cred.yaml', fixtureJob('secret: "env://FIXTURE_SECRET?token=abc123abc"'))),
      [/connection\.credentials\.secret/, /SECRET_INVALID_REF/, /profile/],
    ],
    [
      'a reference to an unknown store',
      () => cli('run', job('store.yaml', fixtureJob('secret: "keychain://thing"'))),
      [/connection\.credentials\.secret/, /SECRET_INVALID_REF/, /env/],
    ],
    [
      'a literal credential',
      () => cli('run', job('literal.yaml', fixtureJob('secret: 12345678'))),
      [/connection\.credentials\.secret/, /secret reference/],
    ],
    [
      'an unknown config key',
      () =>
        cli(
          'run',
          job('ok2.yaml', fixtureJob()),
          '--config',
          writeConfig(
            'unknown-key.yaml',
            'catalog:\n  url: https://c.example.com\n  batchSize: 5\n',
          ),
        ),
      [/CONFIG_INVALID/, /catalog\.batchSize: unknown key/],
    ],
    [
      'a bad config value',
      () =>
        cli(
          'run',
          job('ok3.yaml', fixtureJob()),
          '--config',
          writeConfig(
            'bad-value.yaml',
            'catalog:\n  url: https://c.example.com\n  batchMaxAssets: -3\n',
          ),
        ),
      [/CONFIG_INVALID/, /catalog\.batchMaxAssets/],
    ],
    [
      'a missing job file',
      () => cli('run', 'nope.yaml'),
      [/JOB_INVALID/, /cannot be read \(ENOENT\)/],
    ],
  ];
  for (const [what, run, patterns] of cases) {
    it(`exits 2 naming the path and the fix for ${what}`, async () => {
      const result = await run();
      expect(result.code).toBe(2);
      for (const pattern of patterns) {
        expect(result.stderr).toMatch(pattern);
      }
      expect(result.stderr).toContain('what to do:');
    });
  }
});

describe('perimeter check and discover', () => {
  it('reports the config, each reference, the reach and the source, one line each', async () => {
    const result = await cli('check', job('check.yaml', fixtureJob()));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {4}config/m);
    expect(result.stdout).toMatch(
      /^ok {4}secret +connection\.credentials\.secret +resolvable: env:\/\/FIXTURE_SECRET \(profile env\)/m,
    );
    expect(result.stdout).toMatch(/^ok {4}reach/m);
    expect(result.stdout).toMatch(/^ok {4}source +fixture +token accepted; 321 items visible/m);
    expect(findCanary(canary, { output: result.all })).toEqual([]);
  });

  it('prints a reach line for each endpoint of a connection, naming its role', async () => {
    const result = await cli('check', job('check-two.yaml', twoHostJob()));
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.filter((line) => line.includes('endpoint of connection'))).toEqual([
      expect.stringMatching(
        new RegExp(`^ok {4}reach +${twoHosts.api.url} \\(api endpoint of connection\\) +reachable`),
      ),
      expect.stringMatching(
        new RegExp(
          `^ok {4}reach +${twoHosts.auth.url} \\(auth endpoint of connection\\) +reachable`,
        ),
      ),
    ]);
    expect(result.stdout).toMatch(/^ok {4}source +fixture +token accepted; 75 items visible/m);
    expect(twoHosts.auth.requests()).toContain('POST /v1/token');
    expect(twoHosts.api.requests()).not.toContain('POST /v1/token');
  });

  it('refuses a request to a host the connection does not declare, though policy allows it', async () => {
    const result = await cli(
      'run',
      job('elsewhere.yaml', twoHostJob(`params:\n  alsoFetch: ${elsewhere.url}/exfiltrate\n`)),
    );
    expect(result.code).not.toBe(0);
    expect(result.all).toContain('POLICY_DENIED');
    expect(elsewhere.connections).toBe(0);
    expect(findCanary(canary, { output: result.all })).toEqual([]);
  });

  it('fails the lines that fail and exits 1', async () => {
    const result = await cli(
      'check',
      job('check-bad.yaml', fixtureJob('secret: env://NOT_SET_ANYWHERE')),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}secret .*SECRET_NOT_FOUND/m);
  });

  it('prints the selectable resources as aligned lines, and as JSON with --json', async () => {
    const human = await cli('discover', job('discover.yaml', fixtureJob()));
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(
      [
        'KIND        ID     NAME          PARENT',
        'collection  col-a  Collection A  -',
        'collection  col-b  Collection B  -',
        '',
      ].join('\n'),
    );
    const result = await cli('discover', 'discover.yaml', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { kind: 'collection', id: 'col-a', name: 'Collection A' },
      { kind: 'collection', id: 'col-b', name: 'Collection B' },
    ]);
  });

  it('prints no log lines unless asked, and a run as JSON with --json', async () => {
    const io = captureIo({ FIXTURE_SECRET: canary, PERIMETER_CONFIG: 'config.yaml' }, dir);
    const code = await runCli(
      [
        'run',
        job('json.yaml', fixtureJob('secret: env://FIXTURE_SECRET', 'runId: cli-json\n')),
        '--json',
      ],
      io,
      fixtureRegistry,
    );
    expect(code).toBe(0);
    expect(io.logLines).toEqual([]);
    expect(JSON.parse(io.out.join(''))).toMatchObject({
      runId: 'cli-json',
      operation: 'extract',
      assets: 321,
      destination: expect.stringMatching(/^catalog 127\.0\.0\.1:\d+$/) as string,
    });
    const verbose = captureIo({ FIXTURE_SECRET: canary, PERIMETER_CONFIG: 'config.yaml' }, dir);
    expect(await runCli(['run', 'json.yaml', '--verbose'], verbose, fixtureRegistry)).toBe(0);
    expect(verbose.logLines.join('')).toContain('"msg":"Run succeeded"');
    expect(verbose.err).toEqual([]);
  });

  it('answers COMMAND --help with the command and an example, and refuses an unknown log level', async () => {
    for (const command of ['run', 'check', 'discover', 'start']) {
      const help = await cli(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^perimeter ${command} `));
      expect(help.stdout).toMatch(/\nExample:\n {2}perimeter /);
    }
    const bad = await cli('run', 'json.yaml', '--log-level', 'loud');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--log-level must be one of trace, debug, info');
  });

  it('answers --help, --version and unknown commands', async () => {
    expect((await cli('--help')).stdout).toContain('perimeter run JOB_FILE');
    expect((await cli('--version')).stdout).toMatch(/^perimeter \d+\.\d+\.\d+/);
    const unknown = await cli('launch');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
  });
});

function writeConfig(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}
