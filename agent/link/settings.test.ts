import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretStores } from '../../secrets/index.ts';
import { loadConfig } from '../config/load.ts';
import {
  ControlPlaneSettingsSchema,
  controlPlaneDestinationPolicy,
  freshnessMs,
  readControlPlaneFiles,
} from './settings.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

const BASE = {
  url: 'https://cp.example.com/',
  agentToken: 'file:///var/run/secrets/perimeter/agent-token',
};
const edPem = generateKeyPairSync('ed25519')
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

function problemsOf(input: Record<string, unknown>): string[] {
  const parsed = ControlPlaneSettingsSchema.safeParse({ ...BASE, ...input });
  return parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('ControlPlaneSettingsSchema', () => {
  it('fills the documented defaults and drops a trailing slash', () => {
    const settings = ControlPlaneSettingsSchema.parse(BASE);
    expect(settings).toMatchObject({
      url: 'https://cp.example.com',
      pollWaitSeconds: 25,
      heartbeatIntervalSeconds: 30,
      backoff: { baseMs: 1000, maxMs: 60_000 },
      maxClockSkewSeconds: 300,
      eventBatchMax: 100,
    });
    expect(freshnessMs(settings)).toBe(75_000);
  });

  it('refuses plain http except on loopback', () => {
    expect(problemsOf({ url: 'http://cp.example.com' })).toEqual([
      expect.stringMatching(/^url: must use https/),
    ]);
    expect(problemsOf({ url: 'http://127.0.0.1:8443' })).toEqual([]);
  });

  it('refuses a URL with credentials, a query or a fragment', () => {
    expect(problemsOf({ url: 'https://user:pw@cp.example.com' })).toEqual([
      expect.stringMatching(/must not carry credentials/),
    ]);
    expect(problemsOf({ url: 'https://cp.example.com/?x=1' })).toEqual([
      expect.stringMatching(/query string/),
    ]);
  });

  it('takes the agent token only as a secret reference', () => {
    expect(problemsOf({ agentToken: 'eyJhbGciOi.literal.token' })).toEqual([
      expect.stringMatching(/^agentToken: must be a secret reference/),
    ]);
  });

  it('accepts an Ed25519 public key and refuses any other kind', () => {
    expect(problemsOf({ publicKey: edPem })).toEqual([]);
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(problemsOf({ publicKey: rsaPem })).toEqual([
      expect.stringMatching(/rsa key; instructions are signed with Ed25519/),
    ]);
    expect(problemsOf({ publicKey: 'not a key' })).toEqual([
      expect.stringMatching(/not a PEM public key/),
    ]);
  });

  it('refuses both key forms at once and a half mTLS pair', () => {
    expect(
      problemsOf({ publicKey: edPem, publicKeyFile: '/k.pem', clientCertFile: '/c.pem' }),
    ).toEqual([
      'publicKeyFile: give publicKey or publicKeyFile, not both',
      'clientKeyFile: clientCertFile and clientKeyFile go together (mTLS needs both)',
    ]);
  });

  it('bounds the poll wait to 25 s and the backoff base to its max', () => {
    expect(problemsOf({ pollWaitSeconds: 60 })).toEqual([
      expect.stringMatching(/^pollWaitSeconds:/),
    ]);
    expect(problemsOf({ backoff: { baseMs: 5000, maxMs: 1000 } })).toEqual([
      'backoff.baseMs: baseMs must not exceed maxMs',
    ]);
  });

  it('is the optional controlPlane section of the configuration, settable from the environment', () => {
    const registry = { connectors: [], stores: secretStores };
    expect(loadConfig({ env: {} }, registry).controlPlane).toBeUndefined();
    const config = loadConfig(
      {
        env: {
          PERIMETER_CONTROL_PLANE_URL: 'https://cp.example.com',
          PERIMETER_CONTROL_PLANE_AGENT_TOKEN: 'env://CP_TOKEN',
        },
      },
      registry,
    );
    expect(config.controlPlane?.url).toBe('https://cp.example.com');
  });
});

describe('control-plane files and policy', () => {
  it('reads the pinned key from publicKeyFile and the mTLS pair', () => {
    const dir = tempDir('link');
    writeFileSync(join(dir, 'cp.pem'), edPem);
    writeFileSync(join(dir, 'client.pem'), 'CERT');
    writeFileSync(join(dir, 'client.key'), 'KEY');
    const settings = ControlPlaneSettingsSchema.parse({
      ...BASE,
      publicKeyFile: join(dir, 'cp.pem'),
      clientCertFile: join(dir, 'client.pem'),
      clientKeyFile: join(dir, 'client.key'),
    });
    const files = readControlPlaneFiles(settings);
    expect(files.publicKey?.asymmetricKeyType).toBe('ed25519');
    expect(files.clientCert).toEqual({ certPem: 'CERT', keyPem: 'KEY' });
  });

  it('reports an unreadable key file as CONFIG_INVALID naming the key', () => {
    const settings = ControlPlaneSettingsSchema.parse({
      ...BASE,
      publicKeyFile: '/nonexistent/cp.pem',
    });
    expect(() => readControlPlaneFiles(settings)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        context: { path: 'controlPlane.publicKeyFile', file: '/nonexistent/cp.pem' },
      }),
    );
  });

  it('allows reads and the three protocol POSTs on the control-plane host only', () => {
    expect(controlPlaneDestinationPolicy({ url: 'https://cp.example.com/base' })).toEqual({
      allowedHosts: ['cp.example.com'],
      allowedCalls: [
        { method: 'POST', path: '/base/v1/agents/*/heartbeat' },
        { method: 'POST', path: '/base/v1/instructions/*/ack' },
        { method: 'POST', path: '/base/v1/runs/*/events' },
      ],
    });
  });
});
