import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startLoopbackServer } from '../../helpers/fake-server.ts';
import type { LoopbackServer } from '../../helpers/fake-server.ts';
import type { TokenRegistry } from './tokens.ts';

/** One managed-identity token request (never the identity header). */
export interface RecordedIdentityRequest {
  readonly resource: string;
  /** `client_id` of a user-assigned identity, `mi_res_id` of one by resource id, or undefined. */
  readonly clientId: string | undefined;
  readonly resourceId: string | undefined;
  readonly outcome: string;
}

/**
 * The App Service / Container Apps managed-identity endpoint (IDENTITY_ENDPOINT +
 * IDENTITY_HEADER, plain http on loopback; reference §2.2), issuing tokens the Key Vault fake
 * accepts for `tenantId`.
 */
export class FakeManagedIdentity {
  readonly identityHeader = `header-${Date.now().toString(36)}`;
  readonly requests: RecordedIdentityRequest[] = [];
  readonly #server: LoopbackServer;
  readonly #tokens: TokenRegistry;
  readonly #tenantId: string;

  private constructor(server: LoopbackServer, tokens: TokenRegistry, tenantId: string) {
    this.#server = server;
    this.#tokens = tokens;
    this.#tenantId = tenantId;
  }

  static async start(tokens: TokenRegistry, tenantId: string): Promise<FakeManagedIdentity> {
    // The server listens before the fake exists; no request can arrive in between.
    const bound: { fake?: FakeManagedIdentity } = {};
    const server = await startLoopbackServer((request, response) =>
      bound.fake!.#handle(request, response),
    );
    const fake = new FakeManagedIdentity(server, tokens, tenantId);
    bound.fake = fake;
    return fake;
  }

  /** The IDENTITY_ENDPOINT value. */
  get endpoint(): string {
    return `${this.#server.url}/msi/token`;
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.#server.url);
    const resource = url.searchParams.get('resource') ?? '';
    const clientId = url.searchParams.get('client_id') ?? undefined;
    const resourceId = url.searchParams.get('mi_res_id') ?? undefined;
    const record = (outcome: string): void => {
      this.requests.push({ resource, clientId, resourceId, outcome });
    };
    if (url.pathname !== '/msi/token' || url.searchParams.get('api-version') !== '2019-08-01') {
      record('bad_request');
      sendJson(response, 400, {
        error: 'invalid_request',
        error_description: 'Unexpected path or api-version',
      });
    } else if (request.headers['x-identity-header'] !== this.identityHeader) {
      record('unauthorized');
      sendJson(response, 401, {
        error: 'unauthorized',
        error_description: 'Missing or wrong X-IDENTITY-HEADER',
      });
    } else {
      const expiresOn = Math.floor(Date.now() / 1000) + 3600;
      const accessToken = this.#tokens.issue({
        tenantId: this.#tenantId,
        clientId: clientId ?? resourceId ?? 'system-assigned',
        audience: resource,
        expiresAt: expiresOn * 1000,
      });
      record('ok');
      sendJson(response, 200, {
        access_token: accessToken,
        expires_on: String(expiresOn),
        resource,
        token_type: 'Bearer',
      });
    }
    return Promise.resolve();
  }
}
