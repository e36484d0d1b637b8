import { awsSmFixture } from '../fakes/aws-sm/fixture.ts';
import { azureKvFixture } from '../fakes/azure-kv/fixture.ts';
import { envStoreFixture } from '../fakes/env-store/fixture.ts';
import { fileStoreFixture } from '../fakes/file-store/fixture.ts';
import { gcpSmFixture } from '../fakes/gcp-sm/fixture.ts';
import { vaultFixture } from '../fakes/vault/fixture.ts';
import type { SecretStoreFixture } from './secret-store-fixture.ts';

/** Every secret store's conformance fixture; the suite runs each one. Add yours to the list. */
export const secretStoreFixtures: readonly SecretStoreFixture[] = [
  envStoreFixture,
  fileStoreFixture,
  awsSmFixture,
  azureKvFixture,
  gcpSmFixture,
  vaultFixture,
];
