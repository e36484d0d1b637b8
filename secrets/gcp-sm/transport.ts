import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { googleAuthLibrary, grpc } from 'google-gax';
import type { CallOptions } from 'google-gax';
import { createStoreAgent, trustedCaPems } from '../../agent/plugin-api/index.ts';
import type { SecretStoreDeps } from '../../agent/plugin-api/index.ts';
import type { GcpEndpoint } from './endpoint.ts';
import { tokenCallStatus } from './errors.ts';
import type { GcpSmProfile } from './profile.ts';

type GoogleAuth = googleAuthLibrary.GoogleAuth;
type Gaxios = googleAuthLibrary.gaxios.Gaxios;

/** Registers the bearer of an `authorization` value (access token or self-signed JWT). */
function redactBearer(deps: SecretStoreDeps, value: string | null | undefined): void {
  if (value) {
    deps.redact(value.replace(/^Bearer\s+/i, ''));
  }
}

/**
 * The HTTP transporter every Google auth client and REST call of a profile goes through. It
 * registers each outgoing bearer with the redactor and puts every https request on the
 * profile's agent: the extra CA on top of the default roots and the agent's proxy (Node 24's
 * `proxyEnv`). gax pins its own keep-alive agent on API calls, so gaxios' options cannot.
 */
export function createTransporter(deps: SecretStoreDeps): Gaxios {
  const transporter = new googleAuthLibrary.gaxios.Gaxios();
  const agent = createStoreAgent(deps.network);
  transporter.interceptors.request.add({
    resolved: (config) => {
      redactBearer(deps, config.headers.get('authorization'));
      if (config.url.toString().startsWith('https:')) {
        config.agent = agent;
      }
      return Promise.resolve(config);
    },
  });
  return transporter;
}

// grpc-js turns a failing call-credentials plugin into UNKNOWN unless the error carries a status
// code; a refused token exchange must read as UNAUTHENTICATED (not retried), an unreachable token
// endpoint as UNAVAILABLE (retried).
function asGrpcAuthError(error: unknown): Error {
  const status = tokenCallStatus(error);
  const refused = status === 400 || status === 401 || status === 403;
  return Object.assign(new Error('Obtaining the GCP access token failed', { cause: error }), {
    code: refused ? 16 : 14,
  });
}

// gRPC channel credentials built here rather than by gax: gax would use the system roots only,
// and a hand-made `sslCreds` otherwise drops the call credentials (reference §3.1).
function grpcCredentials(auth: GoogleAuth, deps: SecretStoreDeps): grpc.ChannelCredentials {
  const ca = trustedCaPems([deps.network.extraCaPem]);
  const channel = grpc.credentials.createSsl(ca === undefined ? null : Buffer.from(ca.join('\n')));
  const call = grpc.credentials.createFromGoogleCredential({
    getRequestHeaders: async (url?: string) => {
      const client = await auth.getClient();
      const headers = await client.getRequestHeaders(url).catch((error: unknown) => {
        throw asGrpcAuthError(error);
      });
      redactBearer(deps, headers.get('authorization'));
      // grpc-js reads a plain object, not a Headers instance.
      return Object.fromEntries(headers.entries());
    },
  });
  return grpc.credentials.combineChannelCredentials(channel, call);
}

/** One SDK client for one endpoint. Create once per profile and endpoint; close on shutdown. */
export function createSecretManagerClient(
  endpoint: GcpEndpoint,
  profile: GcpSmProfile,
  auth: GoogleAuth,
  deps: SecretStoreDeps,
): SecretManagerServiceClient {
  const common = {
    apiEndpoint: endpoint.host,
    port: endpoint.port,
    auth,
    // GOOGLE_SDK_NODE_LOGGING would otherwise let the SDK log request and response bodies.
    enableTelemetryLogging: false,
    enableTelemetryTracing: false,
  };
  if (profile.transport === 'rest') {
    return new SecretManagerServiceClient({
      ...common,
      fallback: true,
      protocol: endpoint.protocol,
    });
  }
  return new SecretManagerServiceClient({ ...common, sslCreds: grpcCredentials(auth, deps) });
}

/**
 * Call options of one AccessSecretVersion attempt: its own deadline and no retries by the SDK,
 * which would retry a TLS failure as `UNAVAILABLE` (the read retries: attempts.ts).
 */
export function attemptOptions(timeoutMs: number): CallOptions {
  return { timeout: timeoutMs, retry: null };
}
