import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, startLoopbackServer } from '../../helpers/fake-server.ts';
import type { LoopbackServer, ServerTls } from '../../helpers/fake-server.ts';
import { FaultSwitch } from '../../helpers/fault-switch.ts';
import { AwsError, SecretsManagerState, parseGetSecretValueInput } from './secrets-state.ts';
import { verifySigV4 } from './sigv4.ts';
import type { FakeAwsKey } from './sigv4.ts';

/** A transient failure the fake can answer instead of a read. */
export type AwsFault = 'throttle' | 'internal' | 'unavailable' | 'reset';

/** One GetSecretValue the fake received, for assertions (never the secret value). */
export interface RecordedRead {
  readonly secretId: string | undefined;
  readonly region: string | undefined;
  readonly accessKeyId: string | undefined;
  readonly sessionToken: boolean;
  readonly outcome: string;
}

/** Options of {@link FakeSecretsManager.start}. */
export interface FakeSecretsManagerOptions {
  readonly account?: string;
  /** Regions whose signatures the endpoint accepts (all share one endpoint in tests). */
  readonly regions?: readonly string[];
  /** Serve HTTPS with this certificate (a VPC endpoint behind a private CA). */
  readonly tls?: ServerTls;
}

const JSON_TYPE = 'application/x-amz-json-1.1';
const TARGET = 'secretsmanager.GetSecretValue';
const FAULTS: Readonly<Record<Exclude<AwsFault, 'reset'>, AwsError>> = {
  throttle: new AwsError(400, 'ThrottlingException', 'Rate exceeded'),
  internal: new AwsError(500, 'InternalServiceError', 'An error occurred on the server side.'),
  unavailable: new AwsError(503, 'ServiceUnavailable', 'Service Unavailable'),
};

/**
 * AWS Secrets Manager's GetSecretValue over the JSON 1.1 protocol (reference §1.2), for the real
 * SDK with an endpoint override. Checks every SigV4 signature against its known keys (its IAM),
 * keeps versions and staging labels per region (the state it extends), and serves string and
 * binary secrets, the AWS error shapes, call records and fault switches.
 */
export class FakeSecretsManager extends SecretsManagerState {
  /** Every GetSecretValue received (signature failures and faults included). */
  readonly reads: RecordedRead[] = [];
  readonly faults = new FaultSwitch<AwsFault>('throttle');
  readonly #keys = new Map<string, FakeAwsKey>();
  readonly #server: LoopbackServer;

  private constructor(server: LoopbackServer, options: FakeSecretsManagerOptions) {
    super(options.account ?? '123456789012', options.regions ?? ['us-east-1', 'eu-west-1']);
    this.#server = server;
  }

  /** Starts a fake on a free loopback port. */
  static async start(options: FakeSecretsManagerOptions = {}): Promise<FakeSecretsManager> {
    // The server listens before the fake exists; no request can arrive in between.
    const bound: { fake?: FakeSecretsManager } = {};
    const server = await startLoopbackServer(
      (request, response) => bound.fake!.#handle(request, response),
      options.tls,
    );
    const fake = new FakeSecretsManager(server, options);
    bound.fake = fake;
    return fake;
  }

  /** The endpoint override for the SDK. */
  get url(): string {
    return this.#server.url;
  }

  /** Lets requests signed with this key in. */
  addKey(accessKeyId: string, key: FakeAwsKey): void {
    this.#keys.set(accessKeyId, key);
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const record: { secretId?: string; region?: string; accessKeyId?: string } = {};
    const finish = (outcome: string): void => {
      const sessionToken = request.headers['x-amz-security-token'] !== undefined;
      this.reads.push({
        secretId: undefined,
        region: undefined,
        accessKeyId: undefined,
        ...record,
        sessionToken,
        outcome,
      });
    };
    try {
      const verdict = this.#authenticate(request, body);
      Object.assign(record, verdict);
      const input = parseGetSecretValueInput(body);
      record.secretId = input.SecretId;
      const fault = this.faults.take();
      if (fault === 'reset') {
        finish('reset');
        request.socket.destroy();
        return;
      }
      if (fault !== undefined) {
        throw FAULTS[fault];
      }
      await this.faults.wait();
      const output = this.getSecretValue(input, verdict.region);
      finish('ok');
      send(response, 200, output);
    } catch (error) {
      if (!(error instanceof AwsError)) {
        throw error;
      }
      finish(error.type);
      send(response, error.status, { __type: error.type, message: error.message });
    }
  }

  #authenticate(request: IncomingMessage, body: Buffer): { accessKeyId: string; region: string } {
    const { method = '', url = '', headers } = request;
    if (method !== 'POST' || url !== '/' || headers['content-type'] !== JSON_TYPE) {
      throw new AwsError(404, 'UnknownOperationException', 'Unknown operation');
    }
    if (headers['x-amz-target'] !== TARGET) {
      throw new AwsError(400, 'UnknownOperationException', 'The fake serves GetSecretValue only');
    }
    const verdict = verifySigV4(
      { method, url, headers, body },
      (accessKeyId) => this.#keys.get(accessKeyId),
      { service: 'secretsmanager', regions: this.regions },
    );
    if (!verdict.ok) {
      throw new AwsError(400, verdict.errorType, verdict.message);
    }
    return { accessKeyId: verdict.accessKeyId, region: verdict.region };
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': JSON_TYPE, 'x-amzn-requestid': randomUUID() });
  response.end(JSON.stringify(body));
}
