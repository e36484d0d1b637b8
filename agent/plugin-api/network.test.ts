// The agents' real TLS and proxy behaviour is exercised through each SDK-backed store against its
// fake (secrets/*/network tests); here, what the agent is built from.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getCACertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { PerimeterError } from './errors.ts';
import { createStoreAgent, readCaFile, trustedCaPems } from './network.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

const EXTRA_PEM = '-----BEGIN CERTIFICATE-----\nextra\n-----END CERTIFICATE-----\n';
const PROFILE_PEM = '-----BEGIN CERTIFICATE-----\nprofile\n-----END CERTIFICATE-----\n';

describe('store network settings', () => {
  it('adds extra CAs to the default roots, and keeps the default when there is none', () => {
    expect(trustedCaPems([undefined, ''])).toBeUndefined();
    expect(trustedCaPems([EXTRA_PEM, undefined, PROFILE_PEM])).toEqual([
      ...getCACertificates('default'),
      EXTRA_PEM,
      PROFILE_PEM,
    ]);
  });

  it('builds an agent with checks on, the extra CAs and exactly the configured proxy', () => {
    const agent = createStoreAgent(
      { extraCaPem: EXTRA_PEM, httpsProxy: 'http://proxy.corp:3128', noProxy: '.corp' },
      [PROFILE_PEM],
    );
    try {
      expect(agent.options).toMatchObject({
        keepAlive: true,
        rejectUnauthorized: true,
        proxyEnv: { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.corp' },
      });
      expect((agent.options.ca as string[]).slice(-2)).toEqual([EXTRA_PEM, PROFILE_PEM]);
    } finally {
      agent.destroy();
    }
  });

  it('never takes a proxy from the process environment when none is configured', () => {
    const agent = createStoreAgent({
      extraCaPem: undefined,
      httpsProxy: undefined,
      noProxy: undefined,
    });
    try {
      expect(agent.options.proxyEnv).toEqual({ HTTPS_PROXY: undefined, NO_PROXY: undefined });
      expect(agent.options.ca).toBeUndefined();
    } finally {
      agent.destroy();
    }
  });

  it('reads a caFile, and reports an unreadable one as CONFIG_INVALID naming the key', async () => {
    const dir = tempDir('ca');
    await writeFile(join(dir, 'ca.pem'), EXTRA_PEM);
    const scope = { scheme: 'vault', profile: 'team-a' };
    expect(await readCaFile(join(dir, 'ca.pem'), scope)).toBe(EXTRA_PEM);
    expect(await readCaFile(undefined, scope)).toBeUndefined();

    const error: unknown = await readCaFile(join(dir, 'none.pem'), scope).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PerimeterError);
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      context: { store: 'vault', profile: 'team-a', key: 'secretStores.team-a.caFile' },
    });
    expect((error as Error).message).toContain('Mount the CA bundle there or fix the path');
  });
});
