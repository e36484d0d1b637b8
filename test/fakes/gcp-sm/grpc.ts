import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { FakeSecretManagerState } from './state.ts';

const require = createRequire(import.meta.url);

// The real service definition, as shipped in the SDK (and google/api/* from google-gax).
function loadService(): grpc.ServiceDefinition {
  const sdkRoot = dirname(require.resolve('@google-cloud/secret-manager/package.json'));
  // google-gax exports no package.json; its entry point is build/src/index.js.
  const gaxProtos = join(dirname(require.resolve('google-gax')), '../protos');
  const definition = protoLoader.loadSync('google/cloud/secretmanager/v1/service.proto', {
    includeDirs: [join(sdkRoot, 'build/protos'), gaxProtos],
    keepCase: false,
    longs: String,
    defaults: true,
    oneofs: true,
  });
  const root = grpc.loadPackageDefinition(definition) as unknown as {
    google: {
      cloud: {
        secretmanager: { v1: { SecretManagerService: { service: grpc.ServiceDefinition } } };
      };
    };
  };
  return root.google.cloud.secretmanager.v1.SecretManagerService.service;
}

// grpc-js wants its enum; the shared state speaks numeric codes.
const STATUSES = new Map<number, grpc.status>(
  Object.values(grpc.status).flatMap((value) =>
    typeof value === 'number' ? [[value, value] as const] : [],
  ),
);

function statusOf(code: number): grpc.status {
  return STATUSES.get(code) ?? grpc.status.UNKNOWN;
}

/** A started gRPC front end. */
export interface FakeGrpcServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `SecretManagerService/AccessSecretVersion` over TLS (the SDK sends call credentials
 * only on a secure channel) from the shared state.
 */
export async function startGrpcServer(
  state: FakeSecretManagerState,
  tls: { readonly certPem: string; readonly keyPem: string },
  shutdown: AbortSignal,
): Promise<FakeGrpcServer> {
  const server = new grpc.Server();
  const accessSecretVersion = (
    call: grpc.ServerUnaryCall<{ name: string }, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ): void => {
    const respond = (): void => {
      const authorization = call.metadata.get('authorization')[0];
      const result = state.access(
        call.request.name,
        typeof authorization === 'string' ? authorization : undefined,
        '',
        'grpc',
      );
      if (!result.ok) {
        callback({ code: statusOf(result.error.grpcCode), details: result.error.message });
        return;
      }
      callback(null, {
        name: result.name,
        payload: {
          data: result.data,
          ...(result.crc32c === undefined ? {} : { dataCrc32c: result.crc32c }),
        },
      });
    };
    if (state.delayMs > 0) {
      state.held += 1;
      sleep(state.delayMs, undefined, { signal: shutdown })
        .finally(() => {
          state.held -= 1;
        })
        .then(respond, () => {
          callback({ code: grpc.status.UNAVAILABLE, details: 'shutting down' });
        });
      return;
    }
    respond();
  };
  server.addService(loadService(), { accessSecretVersion });
  const credentials = grpc.ServerCredentials.createSsl(null, [
    { private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) },
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => {
      if (error) {
        reject(error);
      } else {
        resolve(bound);
      }
    });
  });
  return {
    port,
    close: () => {
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
