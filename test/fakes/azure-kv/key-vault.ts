import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startLoopbackServer } from '../../helpers/fake-server.ts';
import type { LoopbackServer, ServerTls } from '../../helpers/fake-server.ts';
import { FaultSwitch } from '../../helpers/fault-switch.ts';
import type { IssuedToken, TokenRegistry } from './tokens.ts';
import { KeyVaultState, VaultError } from './vault-state.ts';

/** A transient failure the fake can answer instead of a read. */
export type KeyVaultFault = 'throttle' | 'unavailable' | 'internal' | 'reset';

/** One secret read the fake received after the challenge (never the value). */
export interface RecordedKeyVaultRead {
  readonly name: string;
  readonly version: string | undefined;
  readonly clientId: string | undefined;
  readonly outcome: string;
}

/** Options of {@link FakeKeyVault.start}. */
export interface FakeKeyVaultOptions {
  readonly tls: ServerTls;
  /** Where valid bearer tokens come from (the Entra and managed-identity fakes). */
  readonly tokens: TokenRegistry;
  readonly tenantId: string;
  /** The resource the challenge names and tokens must be for. */
  readonly resource?: string;
  /** Seconds in the Retry-After of a throttled answer. */
  readonly retryAfterSeconds?: number;
}

const FAULTS: Readonly<Record<Exclude<KeyVaultFault, 'reset'>, VaultError>> = {
  throttle: new VaultError(
    429,
    'Throttled',
    'Request was not processed because too many requests were received.',
  ),
  unavailable: new VaultError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.'),
  internal: new VaultError(500, 'InternalServerError', 'An internal error occurred.'),
};

/**
 * Azure Key Vault's data plane for GetSecret over TLS (reference §2.2): the 401 bearer challenge
 * (`authorization`, `resource`), bearer tokens checked for audience, tenant and expiry, and the
 * secrets, versions, disabled versions and denies of the state it extends; 429 with
 * Retry-After, call records and fault switches.
 */
export class FakeKeyVault extends KeyVaultState {
  readonly resource: string;
  /** Secret reads after the challenge (authorized or refused); challenges are not counted. */
  readonly reads: RecordedKeyVaultRead[] = [];
  readonly faults = new FaultSwitch<KeyVaultFault>('throttle');
  /** Unauthenticated requests answered with the challenge. */
  challenges = 0;
  readonly #options: FakeKeyVaultOptions;
  readonly #server: LoopbackServer;

  private constructor(server: LoopbackServer, options: FakeKeyVaultOptions) {
    super();
    this.#server = server;
    this.#options = options;
    this.resource = options.resource ?? 'https://vault.azure.net';
  }

  static async start(options: FakeKeyVaultOptions): Promise<FakeKeyVault> {
    // The server listens before the fake exists; no request can arrive in between.
    const bound: { fake?: FakeKeyVault } = {};
    const server = await startLoopbackServer(
      (request, response) => bound.fake!.#handle(request, response),
      options.tls,
    );
    const fake = new FakeKeyVault(server, options);
    bound.fake = fake;
    return fake;
  }

  /** The vault URL to point the client at (an endpoint override). */
  get url(): string {
    return this.#server.url;
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const match = /^\/secrets\/([^/]+)\/([^/]*)$/.exec(url.pathname);
    if (request.method !== 'GET' || match === null || !url.searchParams.has('api-version')) {
      sendError(
        response,
        new VaultError(
          400,
          'BadParameter',
          'The fake serves GET /secrets/{name}/{version}?api-version= only',
        ),
      );
      return;
    }
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const issued = token === undefined ? undefined : this.#options.tokens.lookup(token);
    const refusal = this.#checkToken(token, issued);
    if (refusal !== undefined) {
      this.challenges += 1;
      sendError(response, refusal, { 'www-authenticate': this.#challenge() });
      return;
    }
    const name = decodeURIComponent(match[1] ?? '');
    const version = match[2] === '' ? undefined : match[2];
    const record = (outcome: string): void => {
      this.reads.push({ name, version, clientId: issued?.clientId, outcome });
    };
    const fault = this.faults.take();
    if (fault === 'reset') {
      record('reset');
      request.socket.destroy();
      return;
    }
    try {
      if (fault !== undefined) {
        throw FAULTS[fault];
      }
      await this.faults.wait();
      const body = this.getSecret(name, version, url.origin);
      record('ok');
      sendJson(response, 200, body);
    } catch (error) {
      if (!(error instanceof VaultError)) {
        throw error;
      }
      record(error.inner ?? error.code);
      const retryAfter = String(this.#options.retryAfterSeconds ?? 1);
      sendError(response, error, error.status === 429 ? { 'retry-after': retryAfter } : {});
    }
  }

  #checkToken(token: string | undefined, issued: IssuedToken | undefined): VaultError | undefined {
    if (token === undefined) {
      return new VaultError(
        401,
        'Unauthorized',
        'AKV10000: Request is missing a Bearer or PoP token.',
      );
    }
    if (issued === undefined || issued.expiresAt <= Date.now()) {
      return new VaultError(401, 'Unauthorized', 'AKV10013: Invalid token.');
    }
    if (issued.audience.replace(/\/$/, '') !== this.resource) {
      return new VaultError(
        401,
        'Unauthorized',
        `AKV10022: Invalid audience. Expected ${this.resource}.`,
      );
    }
    if (issued.tenantId !== this.#options.tenantId) {
      return new VaultError(401, 'Unauthorized', 'AKV10032: Invalid issuer.');
    }
    return undefined;
  }

  #challenge(): string {
    return `Bearer authorization="https://login.microsoftonline.com/${this.#options.tenantId}", resource="${this.resource}"`;
  }
}

function sendError(
  response: ServerResponse,
  error: VaultError,
  headers: Record<string, string> = {},
): void {
  const inner = error.inner === undefined ? {} : { innererror: { code: error.inner } };
  sendJson(
    response,
    error.status,
    { error: { code: error.code, message: error.message, ...inner } },
    headers,
  );
}
