import { rm } from 'node:fs/promises';
import type { SecretStoreFixture } from '../../conformance/secret-store-fixture.ts';
import { startGcpSmFake } from './fake.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const PROJECT = 'perimeter-conformance';

/** GCP secret ids allow letters, digits, `_` and `-`: anything else in a test name becomes `-`. */
function secretId(name: string): string {
  return `conf-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/**
 * The gcp-sm conformance fixture: the REST fake on loopback, reached with workload identity
 * federation (an external_account configuration file and a subject token file, exchanged at the
 * fake's STS), so the profile needs no other store. Reads are bounded to 100 ms of SDK retries
 * so that the resolver's own retries decide the pace.
 */
export const gcpSmFixture: SecretStoreFixture = {
  scheme: 'gcp-sm',
  capabilities: { remove: true },
  async start() {
    const fake = await startGcpSmFake();
    const dir = tempDir('gcp-conf');
    const configFile = await fake.federate(dir);
    const nameOf = (name: string): string => `projects/${PROJECT}/secrets/${secretId(name)}`;
    const refOf = (name: string): string =>
      `gcp-sm://${PROJECT}/${secretId(name)}?store=conformance`;
    return {
      profile: {
        type: 'gcp-sm',
        allow: [`projects/${PROJECT}/secrets/conf-*`],
        allowedProjects: [PROJECT],
        apiEndpoint: fake.restUrl,
        auth: { type: 'externalAccount', configFile },
        tokenHosts: [new URL(fake.restUrl).host],
        totalTimeoutMs: 100,
      },
      put: (name, value) => {
        fake.state.addVersion(nameOf(name), value);
        return Promise.resolve(refOf(name));
      },
      remove: (name) => {
        fake.state.removeSecret(nameOf(name));
        return Promise.resolve();
      },
      missingRef: () => refOf('never-written'),
      deniedRef: () => {
        fake.state.addVersion(nameOf('denied'), 'unreachable');
        fake.state.deny(nameOf('denied'));
        return Promise.resolve(refOf('denied'));
      },
      // In an allowed project, but outside the profile's `allow` globs.
      disallowedRef: () => `gcp-sm://${PROJECT}/other-secret?store=conformance`,
      failNext: (count) => {
        fake.state.failNext(count);
      },
      failAll: () => {
        fake.state.failAll();
      },
      restore: () => {
        fake.state.restore();
      },
      delay: (ms) => {
        fake.state.delayMs = ms;
      },
      readCount: () => fake.state.readCount,
      close: async () => {
        await fake.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};
