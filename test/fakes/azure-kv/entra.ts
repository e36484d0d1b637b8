import { X509Certificate, createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, startLoopbackServer } from '../../helpers/fake-server.ts';
import type { LoopbackServer, ServerTls } from '../../helpers/fake-server.ts';
import { verifyClientAssertion } from './assertion.ts';
import { TokenRegistry } from './tokens.ts';

/** How an app registration proves itself. */
export type FakeClientCredential =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'certificate'; readonly certificatePem: string }
  | { readonly kind: 'federated'; readonly assertion: string };

/** One token request the fake received (never the credential). */
export interface RecordedTokenRequest {
  readonly tenantId: string;
  readonly clientId: string;
  readonly grant: 'secret' | 'certificate' | 'federated' | 'none';
  readonly scope: string;
  readonly outcome: string;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Entra ID's v2.0 endpoints over TLS, as MSAL calls them (reference §2.2): OpenID discovery per
 * tenant, and the token endpoint's client-credentials grant with a client secret, a certificate
 * assertion (PS256/RS256 JWT, signature and `x5t#S256` checked) or a federated token (workload
 * identity). Issued tokens go to a {@link TokenRegistry} the Key Vault fake checks.
 */
export class FakeEntra {
  readonly tokens: TokenRegistry;
  readonly requests: RecordedTokenRequest[] = [];
  readonly #clients = new Map<string, FakeClientCredential>();
  readonly #server: LoopbackServer;
  #failNext = 0;

  private constructor(server: LoopbackServer, tokens: TokenRegistry) {
    this.#server = server;
    this.tokens = tokens;
  }

  /** Starts the fake over TLS (MSAL refuses a non-https authority). */
  static async start(tls: ServerTls, tokens = new TokenRegistry()): Promise<FakeEntra> {
    // The server listens before the fake exists; no request can arrive in between.
    const bound: { fake?: FakeEntra } = {};
    const server = await startLoopbackServer(
      (request, response) => bound.fake!.#handle(request, response),
      tls,
    );
    const fake = new FakeEntra(server, tokens);
    bound.fake = fake;
    return fake;
  }

  /** The authority host for the credential (`authorityHost`). */
  get url(): string {
    return this.#server.url;
  }

  /** Registers an app (or a managed identity's federated credential) in a tenant. */
  register(tenantId: string, clientId: string, credential: FakeClientCredential): void {
    this.#clients.set(`${tenantId}/${clientId}`, credential);
  }

  /** The next `count` token requests answer 503 (Entra having a bad minute). */
  failNext(count: number): void {
    this.#failNext = count;
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const [tenantId = '', ...rest] = url.pathname.split('/').filter((part) => part !== '');
    const route = rest.join('/');
    if (request.method === 'GET' && route === 'v2.0/.well-known/openid-configuration') {
      sendJson(response, 200, this.#openIdConfiguration(tenantId));
      return;
    }
    if (request.method === 'POST' && route === 'oauth2/v2.0/token') {
      const form = new URLSearchParams((await readBody(request)).toString('utf8'));
      this.#token(tenantId, form, response);
      return;
    }
    sendJson(response, 404, {
      error: 'not_found',
      error_description: 'The fake serves discovery and token only',
    });
  }

  #openIdConfiguration(tenantId: string): Record<string, unknown> {
    const base = `${this.url}/${tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      issuer: `${base}/v2.0`,
      response_types_supported: ['code', 'id_token', 'token'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
    };
  }

  #token(tenantId: string, form: URLSearchParams, response: ServerResponse): void {
    const clientId = form.get('client_id') ?? '';
    const scope = form.get('scope') ?? '';
    const registered = this.#clients.get(`${tenantId}/${clientId}`);
    const answer = this.#answer(tenantId, form, registered);
    const grant = registered?.kind ?? grantOf(form);
    this.requests.push({ tenantId, clientId, grant, scope, outcome: answer.outcome });
    sendJson(response, answer.status, answer.body);
  }

  #answer(
    tenantId: string,
    form: URLSearchParams,
    registered: FakeClientCredential | undefined,
  ): { status: number; outcome: string; body: Record<string, unknown> } {
    const refuse = (status: number, error: string, description: string) => ({
      status,
      outcome: error,
      body: oauthError(error, description),
    });
    if (this.#failNext > 0) {
      this.#failNext -= 1;
      return refuse(
        503,
        'temporarily_unavailable',
        'AADSTS50196: The server is temporarily unavailable.',
      );
    }
    const scope = form.get('scope') ?? '';
    if (form.get('grant_type') !== 'client_credentials' || !scope.endsWith('/.default')) {
      return refuse(
        400,
        'invalid_request',
        'AADSTS900144: The request body must contain a client_credentials grant and a .default scope.',
      );
    }
    const problem = this.#authenticate(
      registered,
      form,
      `${this.url}/${tenantId}/oauth2/v2.0/token`,
    );
    if (problem !== undefined) {
      return refuse(401, 'invalid_client', problem);
    }
    const accessToken = this.tokens.issue({
      tenantId,
      clientId: form.get('client_id') ?? '',
      audience: scope.slice(0, -'/.default'.length),
      expiresAt: Date.now() + 3_599_000,
    });
    return {
      status: 200,
      outcome: 'ok',
      body: {
        token_type: 'Bearer',
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: accessToken,
      },
    };
  }

  #authenticate(
    registered: FakeClientCredential | undefined,
    form: URLSearchParams,
    tokenEndpoint: string,
  ): string | undefined {
    if (registered === undefined) {
      return 'AADSTS700016: Application with identifier was not found in the directory.';
    }
    switch (registered.kind) {
      case 'secret':
        return same(form.get('client_secret'), registered.secret)
          ? undefined
          : 'AADSTS7000215: Invalid client secret provided.';
      case 'federated':
        return same(form.get('client_assertion'), registered.assertion)
          ? undefined
          : 'AADSTS700211: No matching federated identity record found for presented assertion.';
      case 'certificate':
        return verifyClientAssertion(form.get('client_assertion') ?? '', {
          certificate: new X509Certificate(registered.certificatePem),
          clientId: form.get('client_id') ?? '',
          audience: tokenEndpoint,
        });
    }
  }
}

function grantOf(form: URLSearchParams): RecordedTokenRequest['grant'] {
  if (form.has('client_secret')) {
    return 'secret';
  }
  return form.get('client_assertion_type') === ASSERTION_TYPE ? 'federated' : 'none';
}

function same(given: string | null, expected: string): boolean {
  const a = createHash('sha256')
    .update(given ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return given !== null && timingSafeEqual(a, b);
}

function oauthError(error: string, description: string): Record<string, unknown> {
  return {
    error,
    error_description: description,
    error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)],
    timestamp: new Date().toISOString(),
  };
}
