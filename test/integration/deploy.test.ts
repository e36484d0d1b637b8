import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfigAsAgent } from '../helpers/agent-config.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { freePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { parseUnit } from './support/systemd-unit.ts';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const COMPOSE_SCHEMA = fileURLToPath(
  new URL('../fixtures/compose-spec/compose-spec.json', import.meta.url),
);
const read = (path: string): string => readFileSync(join(DEPLOY, path), 'utf8');
const defer = deferredCleanup();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-deploy-'));
  defer(() => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  return dir;
}

interface Service {
  image: string;
  command: string[];
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  restart: string;
  stop_signal?: string;
  stop_grace_period?: string;
  environment?: Record<string, string>;
  configs?: { source: string; target: string }[];
  secrets?: { source: string; target: string }[];
  healthcheck: { test: string[] };
  networks: string[];
}

interface Compose {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean }>;
  configs: Record<string, { file: string }>;
  secrets: Record<string, { file?: string; environment?: string }>;
}

const composeText = read('compose.yaml');
const compose = parseYaml(composeText) as Compose;
const agent = compose.services['agent']!;
const redis = compose.services['redis']!;
const standaloneText = read('examples/standalone.yaml');

function validateCompose(document: unknown): string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(COMPOSE_SCHEMA, 'utf8')) as object);
  return validate(document)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

function seconds(duration: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  expect(match, `a duration such as 40s, not ${duration}`).not.toBeNull();
  const [, amount, unit] = match!;
  return Number(amount) * { ms: 0.001, s: 1, m: 60 }[unit as 'ms' | 's' | 'm'];
}

const drainGraceSeconds = (): number =>
  loadConfigAsAgent('standalone.yaml', standaloneText).queue.shutdownGraceMs / 1000;

describe('the compose file', () => {
  it('is valid against the Compose specification schema, which refuses a misspelled key', () => {
    expect(validateCompose(compose)).toEqual([]);
    const misspelled = structuredClone(compose);
    misspelled.services['agent'] = { ...agent, readonly: true } as Service;
    expect(validateCompose(misspelled).join('\n')).toMatch(/additional properties/);
  });

  it('runs the agent read-only as uid 10001, without capabilities, checked by /livez, restarted', () => {
    expect(agent.command).toEqual(['start', '--config', '/etc/perimeter/perimeter.yaml']);
    expect(agent.user).toBe('10001:10001');
    expect(agent.read_only).toBe(true);
    expect(agent.tmpfs?.some((mount) => mount.startsWith('/tmp:'))).toBe(true);
    expect(agent.cap_drop).toEqual(['ALL']);
    expect(agent.security_opt).toContain('no-new-privileges:true');
    expect(agent.healthcheck.test.join(' ')).toContain('http://127.0.0.1:8080/livez');
    expect(agent.restart).toBe('unless-stopped');
    expect(agent.image).toMatch(/^\$\{PERIMETER_IMAGE:\?/);
  });

  it('mounts the standalone example as the config and waits longer than its drain grace', () => {
    const mount = agent.configs?.find((c) => c.target === '/etc/perimeter/perimeter.yaml');
    expect(compose.configs[mount!.source]!.file).toBe('./examples/standalone.yaml');
    expect(agent.stop_signal).toBe('SIGTERM');
    expect(seconds(agent.stop_grace_period!)).toBeGreaterThan(drainGraceSeconds() + 5);
  });

  it('runs Redis with the append-only settings, a redis-cli ping check, and no route out', () => {
    expect(redis.command.slice(0, 2)).toEqual([
      'redis-server',
      '/usr/local/etc/redis/perimeter.conf',
    ]);
    const mount = redis.configs?.find((c) => c.target === '/usr/local/etc/redis/perimeter.conf');
    expect(compose.configs[mount!.source]!.file).toBe('./redis/perimeter.conf');
    expect(read('redis/perimeter.conf')).toMatch(/^appendonly yes$/m);
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(redis.restart).toBe('unless-stopped');
    expect(redis.networks).toEqual(['backend']);
    expect(compose.networks['backend']!.internal).toBe(true);
  });

  it('holds no secret value: secrets are files, the environment holds settings and references', () => {
    for (const secret of Object.values(compose.secrets)) {
      expect(secret.file).toMatch(/^\.\/secrets\/[a-z-]+$/);
    }
    const settings = new Set(['PERIMETER_REDIS_URL']);
    for (const service of Object.values(compose.services)) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        expect(settings.has(name) || /^\$\{[A-Z_]+(:[-?][^}]*)?\}$/.test(value), name).toBe(true);
      }
    }
    expect(read('.gitignore').split('\n')).toEqual(expect.arrayContaining(['secrets/', '.env']));
  });
});

describe('the Redis settings', () => {
  it('turn on the append-only file and forbid eviction in a real redis-server', async () => {
    const port = await freePort();
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', tempDir()]
        // The file's settings alone, as the drop-in and the compose file give them.
        .concat(['--include', join(DEPLOY, 'redis/perimeter.conf')]),
      { stdio: 'ignore' },
    );
    defer(async () => {
      const exited = once(server, 'exit');
      server.kill('SIGKILL');
      await exited;
    });
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: null });
    // Refused connections while redis-server starts are expected: waitFor retries them.
    client.on('error', () => undefined);
    defer(async () => {
      client.disconnect();
      await Promise.resolve();
    });
    await waitFor(() => client.connect().then(() => true), { what: 'redis-server' });
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
  });
});

const unitText = read('systemd/perimeter.service');
const unit = parseUnit(unitText);
const service = (key: string): string[] => unit.get('Service')?.get(key) ?? [];
const systemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('the systemd unit', () => {
  it('starts perimeter with the config file as a dedicated user', () => {
    expect(service('ExecStart')).toEqual([
      '/usr/local/bin/perimeter start --config /etc/perimeter/perimeter.yaml',
    ]);
    expect(service('User')).toEqual(['perimeter']);
    expect(service('Group')).toEqual(['perimeter']);
  });

  it('is hardened: no privileges, a read-only system, inet and unix sockets, system calls of services', () => {
    expect(
      Object.fromEntries([...unit.get('Service')!].map(([k, v]) => [k, v.join(' | ')])),
    ).toMatchObject({
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
      SystemCallFilter: '@system-service | ~@privileged',
      ReadWritePaths: '/var/lib/perimeter',
      MemoryMax: '1G',
    });
  });

  it('sends SIGTERM, waits longer than the drain grace and restarts only on failure', () => {
    expect(service('KillSignal')).toEqual(['SIGTERM']);
    expect(seconds(service('TimeoutStopSec')[0]!)).toBeGreaterThan(drainGraceSeconds() + 5);
    expect(service('Restart')).toEqual(['on-failure']);
    expect(service('RestartPreventExitStatus')).toEqual(['2']);
  });

  it.runIf(systemdAnalyze)(
    'passes systemd-analyze verify, which reports a misspelled value',
    () => {
      const dir = tempDir();
      const program = join(dir, 'perimeter');
      writeFileSync(program, '#!/bin/sh\n');
      chmodSync(program, 0o755);
      // verify checks that ExecStart's program exists: a stand-in, the arguments kept as written.
      const testable = unitText.replace(
        'ExecStart=/usr/local/bin/perimeter ',
        `ExecStart=${program} `,
      );
      expect(testable).not.toBe(unitText);
      const verify = (text: string): { status: number | null; stderr: string } => {
        writeFileSync(join(dir, 'perimeter.service'), text);
        const result = spawnSync(
          'systemd-analyze',
          ['verify', '--man=no', join(dir, 'perimeter.service')],
          {
            encoding: 'utf8',
          },
        );
        return { status: result.status, stderr: result.stderr };
      };
      expect(verify(testable)).toEqual({ status: 0, stderr: '' });
      expect(verify(testable.replace('KillMode=mixed', 'KillMode=mixd')).stderr).toMatch(
        /kill mode/i,
      );
    },
  );

  it('comes with a Redis drop-in that starts Redis with the Perimeter settings included', () => {
    const dropIn = parseUnit(read('systemd/redis-server.service.d/perimeter.conf'));
    const execStart = dropIn.get('Service')?.get('ExecStart') ?? [];
    expect(execStart[0]).toBe('');
    expect(execStart[1]).toContain('--include /etc/redis/perimeter.conf');
    expect(existsSync(join(DEPLOY, 'redis/perimeter.conf'))).toBe(true);
  });
});

describe('the example configs', () => {
  it('standalone: the agent accepts its connections, profiles, policy and scheduled jobs', () => {
    const config = loadConfigAsAgent('standalone.yaml', standaloneText);
    expect(config.controlPlane).toBeUndefined();
    expect(Object.keys(config.connections)).toEqual(['cyera-prod', 'cyera-eu']);
    expect(Object.values(config.secretStores).every((p) => p.allow.length > 0)).toBe(true);
    expect(config.policy.allowInlineConnections).toBe(false);
    expect(config.jobs.filter((job) => job.schedule !== undefined)).toHaveLength(2);
    expect(config.catalog?.token).toMatch(/^file:\/\/\//);
  });

  it('control plane: the agent accepts its link with a pinned key and a token file', () => {
    const config = loadConfigAsAgent('control-plane.yaml', read('examples/control-plane.yaml'));
    expect(config.controlPlane?.agentToken).toBe('file:///etc/perimeter/secrets/agent-token');
    expect(config.controlPlane?.publicKey).toContain('BEGIN PUBLIC KEY');
    expect(config.jobs).toEqual([]);
    expect(config.policy.connectors['cyera']?.inlineSecretRefs).toHaveLength(1);
  });

  it('stay valid with the proxy and TLS-inspection lines uncommented', () => {
    const uncommented = standaloneText.replace(/^ {2}# (httpsProxy|noProxy|caFile):/gm, '  $1:');
    const config = loadConfigAsAgent('standalone.yaml', uncommented);
    expect(config.http).toMatchObject({
      httpsProxy: 'http://proxy.corp.example:3128',
      noProxy: '.corp.example,169.254.169.254',
      caFile: '/etc/perimeter/tls/inspection-ca.pem',
    });
  });

  it('are refused by the same loader when a credential is written as a literal value', () => {
    const literal = standaloneText.replace(
      'secret: file:///etc/perimeter/secrets/cyera-secret',
      'secret: hunter2-pasted-here',
    );
    expect(literal).not.toBe(standaloneText);
    expect(() => loadConfigAsAgent('standalone.yaml', literal)).toThrow(/credentials/);
  });
});
