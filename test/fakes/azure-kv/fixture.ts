import { randomBytes } from 'node:crypto';
import type {
  SecretStoreFixture,
  SecretStoreHarness,
} from '../../conformance/secret-store-fixture.ts';
import { VAULT, startAzureFakes } from './fakes.ts';

const HOST = `${VAULT}.vault.azure.net`;

/**
 * `azure-kv` for the secret-store conformance suite: the real SDK and `@azure/identity` against
 * the Key Vault and Entra ID fakes over loopback TLS, through the 401 challenge, with workload
 * identity (a federated token file, so no other store is involved). `maxRetries: 0` leaves the
 * retries to the resolver. Key Vault holds text only: a binary value is stored base64 with an
 * octet-stream content type, and its reference carries `decode=base64`, as an operator would
 * write it.
 */
export const azureKvFixture: SecretStoreFixture = {
  scheme: 'azure-kv',
  capabilities: { remove: true },
  async start(): Promise<SecretStoreHarness> {
    const fakes = await startAzureFakes();
    const ref = (name: string, decode = false): string =>
      `azure-kv://${VAULT}/${name}?store=conformance${decode ? '&decode=base64' : ''}`;
    const secretName = (name: string): string =>
      `conformance-${name.replace(/[^0-9A-Za-z-]/g, '-')}`;
    return {
      profile: { type: 'azure-kv', allow: [`${HOST}/conformance-*`], ...fakes.profile() },
      put(name, value) {
        const binary = typeof value !== 'string';
        fakes.vault.put(
          secretName(name),
          binary ? Buffer.from(value).toString('base64') : value,
          binary ? 'application/octet-stream' : undefined,
        );
        return Promise.resolve(ref(secretName(name), binary));
      },
      remove(name) {
        fakes.vault.remove(secretName(name));
        return Promise.resolve();
      },
      missingRef: () => ref(secretName(`missing-${randomBytes(4).toString('hex')}`)),
      deniedRef() {
        fakes.vault.put(secretName('denied'), 'never-served');
        fakes.vault.deny(secretName('denied'));
        return Promise.resolve(ref(secretName('denied')));
      },
      disallowedRef: () => ref('elsewhere'),
      failNext(count) {
        fakes.vault.faults.failNext(count, 'unavailable');
      },
      failAll() {
        fakes.vault.faults.failAll('unavailable');
      },
      restore() {
        fakes.vault.faults.restore();
      },
      delay(ms) {
        fakes.vault.faults.delay(ms);
      },
      readCount: () => fakes.vault.reads.length,
      close: () => fakes.close(),
    };
  },
};
