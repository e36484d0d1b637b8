import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretStoreFixture } from '../../conformance/secret-store-fixture.ts';
import { makeCanary } from '../../helpers/canary.ts';
import { startVaultFake } from './fake.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

/** KV paths allow most characters; keep test names readable but free of `/`. */
function pathOf(name: string): string {
  return `conformance/ok/${name.replace(/\//g, '-')}`;
}

/**
 * How a value is stored: a JSON object as the secret's fields (read whole), anything else under
 * the field `value` (read with `&field=value`), bytes base64-encoded (`&decode=base64`).
 */
function storedForm(value: string | Buffer): { fields: Record<string, unknown>; params: string } {
  if (Buffer.isBuffer(value)) {
    return { fields: { value: value.toString('base64') }, params: '&field=value&decode=base64' };
  }
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return { fields: parsed as Record<string, unknown>, params: '' };
    }
  } catch {
    // Not JSON: a plain value.
  }
  return { fields: { value }, params: '&field=value' };
}

/**
 * The vault conformance fixture: the Vault fake with a KV v2 mount, reached with a Kubernetes
 * login (a service-account token file), so the profile needs no other store.
 *
 * A Vault secret is always a map of fields, so its whole payload is that map as JSON. A JSON
 * object given to `put` becomes the fields; a plain value is stored under the field `value` (as
 * Airbyte does) and `put` returns the reference with `&field=value`, which reads that field
 * alone as the payload. Binary values are stored base64-encoded and read with `decode=base64`.
 */
export const vaultFixture: SecretStoreFixture = {
  scheme: 'vault',
  capabilities: { remove: true },
  async start() {
    const fake = await startVaultFake();
    fake.mountKv('secret', 2);
    const dir = tempDir('vault-conf');
    const jwtFile = join(dir, 'token');
    const jwt = makeCanary('service-account-jwt');
    await writeFile(jwtFile, jwt);
    fake.addKubernetesRole('perimeter', jwt, {
      policies: ['secret/data/conformance/ok/*'],
      ttlSeconds: 3600,
    });
    const refOf = (name: string): string => `vault://secret/${pathOf(name)}?store=conformance`;
    return {
      profile: {
        type: 'vault',
        allow: ['secret/data/conformance/**'],
        address: fake.address,
        auth: { type: 'kubernetes', role: 'perimeter', jwtFile },
      },
      put: (name, value) => {
        const { fields, params } = storedForm(value);
        fake.putKv2('secret', pathOf(name), fields);
        return Promise.resolve(`${refOf(name)}${params}`);
      },
      remove: (name) => {
        fake.removeKv2('secret', pathOf(name));
        return Promise.resolve();
      },
      missingRef: () => refOf('never-written'),
      deniedRef: () => {
        // Inside the allowlist, outside the role's policy.
        fake.putKv2('secret', 'conformance/denied/db', { password: 'unreachable' });
        return Promise.resolve('vault://secret/conformance/denied/db?store=conformance');
      },
      disallowedRef: () => 'vault://secret/elsewhere/db?store=conformance',
      failNext: (count) => {
        Object.assign(fake.faults, { failReads: count, status: 503 });
      },
      failAll: () => {
        Object.assign(fake.faults, { failAll: true, status: 503 });
      },
      restore: () => {
        fake.restore();
      },
      delay: (ms) => {
        fake.faults.delayMs = ms;
      },
      readCount: () => fake.counts.reads,
      close: async () => {
        await fake.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};
