import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, startLoopbackServer } from '../../helpers/fake-server.ts';
import type { LoopbackServer } from '../../helpers/fake-server.ts';
import type { FakeAwsKey } from './sigv4.ts';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * AWS STS `AssumeRoleWithWebIdentity` (Query protocol in, XML out; reference §1.2), the call the
 * SDK's IRSA provider makes with the projected service-account token. Each role trusts given
 * tokens; every issued temporary key is handed to `onIssue` (the Secrets Manager fake's IAM).
 */
export class FakeSts {
  /** AssumeRoleWithWebIdentity calls received. */
  calls = 0;
  readonly #trust = new Map<string, Set<string>>();
  readonly #server: LoopbackServer;
  readonly #onIssue: (accessKeyId: string, key: FakeAwsKey) => void;
  readonly #ttlMs: number;

  private constructor(
    server: LoopbackServer,
    onIssue: (accessKeyId: string, key: FakeAwsKey) => void,
    ttlMs: number,
  ) {
    this.#server = server;
    this.#onIssue = onIssue;
    this.#ttlMs = ttlMs;
  }

  /** Starts the fake; `ttlMs` is the lifetime of issued keys. */
  static async start(
    onIssue: (accessKeyId: string, key: FakeAwsKey) => void,
    ttlMs = 3_600_000,
  ): Promise<FakeSts> {
    // The server listens before the fake exists; no request can arrive in between.
    const bound: { fake?: FakeSts } = {};
    const server = await startLoopbackServer((request, response) =>
      bound.fake!.#handle(request, response),
    );
    const fake = new FakeSts(server, onIssue, ttlMs);
    bound.fake = fake;
    return fake;
  }

  /** The STS endpoint (AWS_ENDPOINT_URL_STS). */
  get url(): string {
    return this.#server.url;
  }

  /** The role's trust policy accepts this web identity token. */
  trust(roleArn: string, webIdentityToken: string): void {
    const tokens = this.#trust.get(roleArn) ?? new Set<string>();
    tokens.add(webIdentityToken);
    this.#trust.set(roleArn, tokens);
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams((await readBody(request)).toString('utf8'));
    if (request.method !== 'POST' || form.get('Action') !== 'AssumeRoleWithWebIdentity') {
      sendError(response, 400, 'InvalidAction', 'The fake serves AssumeRoleWithWebIdentity only');
      return;
    }
    this.calls += 1;
    const roleArn = form.get('RoleArn') ?? '';
    const token = form.get('WebIdentityToken') ?? '';
    const trusted = this.#trust.get(roleArn);
    if (trusted === undefined) {
      sendError(
        response,
        403,
        'AccessDenied',
        'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      );
      return;
    }
    if (!trusted.has(token)) {
      sendError(
        response,
        400,
        'InvalidIdentityToken',
        "Couldn't retrieve verification key from your identity provider",
      );
      return;
    }
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const key = {
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(64).toString('base64'),
      expiresAt: Date.now() + this.#ttlMs,
    };
    this.#onIssue(accessKeyId, key);
    const session = form.get('RoleSessionName') ?? 'session';
    response.writeHead(200, { 'content-type': 'text/xml' });
    response.end(
      `<AssumeRoleWithWebIdentityResponse xmlns="${NS}"><AssumeRoleWithWebIdentityResult>` +
        `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${key.secretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${key.sessionToken}</SessionToken><Expiration>${new Date(key.expiresAt).toISOString()}</Expiration></Credentials>` +
        `<SubjectFromWebIdentityToken>system:serviceaccount:perimeter:perimeter</SubjectFromWebIdentityToken>` +
        `<AssumedRoleUser><Arn>${roleArn.replace(':role/', ':assumed-role/').replace('arn:aws:iam:', 'arn:aws:sts:')}/${session}</Arn>` +
        `<AssumedRoleId>AROA${randomBytes(8).toString('hex').toUpperCase()}:${session}</AssumedRoleId></AssumedRoleUser>` +
        `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
        `</AssumeRoleWithWebIdentityResponse>`,
    );
  }
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { 'content-type': 'text/xml' });
  response.end(
    `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}
