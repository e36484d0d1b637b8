import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
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
export interface FakeTls {
  readonly certPem: string;
  readonly keyPem: string;
}

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
  close(): Promise<void>;
}

const AUDIENCE =
  '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/perimeter/providers/cluster';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/** Starts the fake on loopback ports chosen by the OS. */
export async function startGcpSmFake(options: GcpSmFakeOptions = {}): Promise<GcpSmFake> {
  const identity = new FakeGoogleIdentity();
  const state = new FakeSecretManagerState(identity);
  const authCalls: AuthCallCounts = { sts: 0, impersonations: 0 };
  const shutdown = new AbortController();
  const serve = (location: string): Server => {
    const handler = createRestHandler({
      state,
      location,
      audience: AUDIENCE,
      counts: authCalls,
      shutdown: shutdown.signal,
    });
    return options.restTls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: options.restTls.certPem, key: options.restTls.keyPem }, handler);
  };
  const scheme = options.restTls === undefined ? 'http' : 'https';
  const global = serve('');
  const restUrl = `${scheme}://127.0.0.1:${await listen(global)}`;
  const regional = options.region === undefined ? undefined : serve(options.region);
  const regionalUrl =
    regional === undefined ? undefined : `${scheme}://127.0.0.1:${await listen(regional)}`;
  const grpcServer: FakeGrpcServer | undefined =
    options.grpcTls === undefined
      ? undefined
      : await startGrpcServer(state, options.grpcTls, shutdown.signal);
  return {
    state,
    identity,
    restUrl,
    regionalUrl,
    grpcEndpoint: grpcServer === undefined ? undefined : `127.0.0.1:${grpcServer.port}`,
    audience: AUDIENCE,
    authCalls,
    externalAccountConfig: ({ subjectTokenFile, impersonate }) => ({
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
    }),
    close: async () => {
      shutdown.abort();
      await Promise.all([
        closeServer(global),
        regional === undefined ? undefined : closeServer(regional),
        grpcServer?.close(),
      ]);
    },
  };
}
