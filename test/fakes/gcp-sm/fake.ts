import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeCanary } from '../../helpers/canary.ts';
import { startLoopbackServer } from '../../helpers/fake-server.ts';
import type { LoopbackServer, ServerTls } from '../../helpers/fake-server.ts';
import { startGrpcServer } from './grpc.ts';
import type { FakeGrpcServer } from './grpc.ts';
import { FakeGoogleIdentity } from './identity.ts';
import { createRestHandler } from './rest.ts';
import type { AuthCallCounts } from './rest.ts';
import { FakeSecretManagerState } from './state.ts';

export { CLOUD_PLATFORM, FakeGoogleIdentity } from './identity.ts';
export type { ServiceAccountKey } from './identity.ts';
export { FakeSecretManagerState, projectNumber } from './state.ts';

/** A server certificate and key (e.g. from `test/helpers/tls.ts`). */
export type FakeTls = ServerTls;

/** Options of {@link startGcpSmFake}. */
export interface GcpSmFakeOptions {
  /** Serve REST over https with this certificate (plain http on loopback otherwise). */
  readonly restTls?: FakeTls;
  /** Also serve gRPC (always TLS: the SDK sends no call credentials on an insecure channel). */
  readonly grpcTls?: FakeTls;
  /** Also serve the regional endpoint of this location (REST). */
  readonly region?: string;
}

/** A running GCP Secret Manager fake with its token endpoints. */
export interface GcpSmFake {
  readonly state: FakeSecretManagerState;
  readonly identity: FakeGoogleIdentity;
  /** `http(s)://127.0.0.1:<port>`: the global REST endpoint, STS and IAM Credentials. */
  readonly restUrl: string;
  /** The regional REST endpoint, when `region` was given. */
  readonly regionalUrl: string | undefined;
  /** `127.0.0.1:<port>` of the gRPC endpoint, when `grpcTls` was given. */
  readonly grpcEndpoint: string | undefined;
  /** The workload identity provider audience STS accepts. */
  readonly audience: string;
  readonly authCalls: AuthCallCounts;
  /**
   * An external_account credential configuration pointing at this fake's STS, reading the
   * subject token from `subjectTokenFile`, optionally impersonating `impersonate`.
   */
  externalAccountConfig(options: {
    subjectTokenFile: string;
    impersonate?: string;
  }): Record<string, unknown>;
  /**
   * Sets up workload identity federation as a cluster would: a projected subject token (trusted
   * by this fake's STS) and the credential configuration pointing at it, both written in `dir`.
   * Returns the configuration file's path, for `auth: {type: externalAccount, configFile}`.
   */
  federate(dir: string): Promise<string>;
  close(): Promise<void>;
}

const AUDIENCE =
  '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/perimeter/providers/cluster';

/** Starts the fake on loopback ports chosen by the OS. */
export async function startGcpSmFake(options: GcpSmFakeOptions = {}): Promise<GcpSmFake> {
  const identity = new FakeGoogleIdentity();
  const state = new FakeSecretManagerState(identity);
  const authCalls: AuthCallCounts = { sts: 0, impersonations: 0 };
  const shutdown = new AbortController();
  const serve = (location: string): Promise<LoopbackServer> => {
    const handler = createRestHandler({
      state,
      location,
      audience: AUDIENCE,
      counts: authCalls,
      shutdown: shutdown.signal,
    });
    return startLoopbackServer(handler, options.restTls);
  };
  const global = await serve('');
  const restUrl = global.url;
  const regional = options.region === undefined ? undefined : await serve(options.region);
  const regionalUrl = regional?.url;
  const grpcServer: FakeGrpcServer | undefined =
    options.grpcTls === undefined
      ? undefined
      : await startGrpcServer(state, options.grpcTls, shutdown.signal);
  const externalAccountConfig: GcpSmFake['externalAccountConfig'] = ({
    subjectTokenFile,
    impersonate,
  }) => ({
    type: 'external_account',
    audience: AUDIENCE,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: `${restUrl}/v1/token`,
    credential_source: { file: subjectTokenFile },
    ...(impersonate === undefined
      ? {}
      : {
          service_account_impersonation_url: `${restUrl}/v1/projects/-/serviceAccounts/${impersonate}:generateAccessToken`,
        }),
  });
  return {
    state,
    identity,
    restUrl,
    regionalUrl,
    grpcEndpoint: grpcServer === undefined ? undefined : `127.0.0.1:${grpcServer.port}`,
    audience: AUDIENCE,
    authCalls,
    externalAccountConfig,
    federate: async (dir) => {
      const subjectTokenFile = join(dir, 'token');
      const subjectToken = makeCanary('workload-token');
      await writeFile(subjectTokenFile, subjectToken);
      identity.trustSubjectToken(subjectToken);
      const configFile = join(dir, 'credential-configuration.json');
      await writeFile(configFile, JSON.stringify(externalAccountConfig({ subjectTokenFile })));
      return configFile;
    },
    close: async () => {
      shutdown.abort();
      await Promise.all([global.close(), regional?.close(), grpcServer?.close()]);
    },
  };
}
