import { readFile } from 'node:fs/promises';
import { googleAuthLibrary } from 'google-gax';
import { PerimeterError, isLoopbackHost, resolveCredential } from '../../agent/plugin-api/index.ts';
import type { SecretStoreDeps } from '../../agent/plugin-api/index.ts';
import type { GcpSmAuth } from './profile.ts';

type GoogleAuth = googleAuthLibrary.GoogleAuth;
type Gaxios = googleAuthLibrary.gaxios.Gaxios;

/** The only scope requested: Secret Manager has no narrower one. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

// Google's own token hosts; any other host must be listed in the profile's `tokenHosts`.
const GOOGLE_TOKEN_HOSTS = ['sts.googleapis.com', 'iamcredentials.googleapis.com'];
const MAX_CONFIG_BYTES = 64 * 1024;

/** What building credentials needs besides the profile's `auth`. */
export interface CredentialOptions {
  readonly auth: GcpSmAuth;
  readonly projectId: string;
  readonly tokenHosts: readonly string[];
  readonly transporter: Gaxios;
  readonly deps: SecretStoreDeps;
  readonly signal: AbortSignal;
}

function configError(key: string, problem: string): PerimeterError {
  return new PerimeterError('CONFIG_INVALID', `secretStores.<profile>.auth.${key}: ${problem}`, {
    context: { store: 'gcp-sm', key: `auth.${key}` },
  });
}

// Parses JSON credentials without ever quoting them: a syntax error message could echo the key.
function parseObject(text: string, key: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Reported below without the parser's message.
  }
  throw configError(key, `the value is not a JSON object (expected ${what})`);
}

function stringField(json: Record<string, unknown>, field: string): string | undefined {
  const value = json[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function serviceAccountClient(
  options: CredentialOptions,
  keyRef: string,
): Promise<GoogleAuth> {
  const text = await resolveCredential(
    options.deps,
    { scheme: 'gcp-sm', key: 'key', ref: keyRef },
    options.signal,
  );
  const json = parseObject(text, 'key', 'a service-account key');
  const email = stringField(json, 'client_email');
  const privateKey = stringField(json, 'private_key');
  if (json['type'] !== 'service_account' || email === undefined || privateKey === undefined) {
    throw configError(
      'key',
      'the referenced value is not a service-account key (expected type "service_account" with client_email and private_key)',
    );
  }
  options.deps.redact(privateKey);
  // Scoped JWT client: with the gapic default `useJWTAccessWithScope`, the SDK signs a short-lived
  // RS256 JWT with the key itself and sends it as the bearer; no token endpoint is involved.
  const client = new googleAuthLibrary.JWT({
    email,
    key: privateKey,
    keyId: stringField(json, 'private_key_id'),
    scopes: [CLOUD_PLATFORM_SCOPE],
    transporter: options.transporter,
  });
  // Set here too, not only by the SDK client, so a probe before any read never falls back to
  // the OAuth token endpoint.
  client.useJWTAccessWithScope = true;
  return new googleAuthLibrary.GoogleAuth({ authClient: client, projectId: options.projectId });
}

function checkTokenUrl(options: CredentialOptions, field: string, raw: string | undefined): void {
  if (raw === undefined) {
    return;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError('config', `${field} is not a URL`);
  }
  const allowed = [...GOOGLE_TOKEN_HOSTS, ...options.tokenHosts];
  const hostAllowed = allowed.includes(url.host) || allowed.includes(url.hostname);
  const schemeAllowed = url.protocol === 'https:' || isLoopbackHost(url.hostname);
  if (!hostAllowed || !schemeAllowed) {
    // An untrusted configuration could send the workload's token anywhere (reference §3.5, 9).
    throw configError(
      'config',
      `${field} points at ${url.host}, which is neither a Google token host nor listed in secretStores.<profile>.tokenHosts (https required)`,
    );
  }
}

async function loadExternalConfig(
  options: CredentialOptions,
  auth: Extract<GcpSmAuth, { type: 'externalAccount' }>,
): Promise<Record<string, unknown>> {
  if (auth.config !== undefined) {
    const text = await resolveCredential(
      options.deps,
      { scheme: 'gcp-sm', key: 'config', ref: auth.config },
      options.signal,
    );
    return parseObject(text, 'config', 'an external_account configuration');
  }
  const path = auth.configFile ?? '';
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', signal: options.signal });
  } catch (error) {
    throw new PerimeterError(
      'CONFIG_INVALID',
      'secretStores.<profile>.auth.configFile cannot be read. Check that the ConfigMap or file is mounted',
      { cause: error, context: { store: 'gcp-sm', path } },
    );
  }
  if (text.length > MAX_CONFIG_BYTES) {
    throw configError('configFile', 'the file is larger than 64 KiB');
  }
  return parseObject(text, 'configFile', 'an external_account configuration');
}

async function externalAccountClient(
  options: CredentialOptions,
  auth: Extract<GcpSmAuth, { type: 'externalAccount' }>,
): Promise<GoogleAuth> {
  const json = await loadExternalConfig(options, auth);
  if (json['type'] !== 'external_account' || stringField(json, 'audience') === undefined) {
    throw configError(
      'config',
      'expected a type "external_account" configuration with an audience',
    );
  }
  checkTokenUrl(
    options,
    'token_url',
    stringField(json, 'token_url') ?? 'https://sts.googleapis.com/v1/token',
  );
  checkTokenUrl(
    options,
    'service_account_impersonation_url',
    stringField(json, 'service_account_impersonation_url'),
  );
  const source = json['credential_source'] as Record<string, unknown> | undefined;
  if (typeof source !== 'object' || 'executable' in source) {
    // Executable sources run a command from the configuration: never from a reference.
    throw configError('config', 'credential_source must be a file, url or AWS environment source');
  }
  const clientOptions = {
    ...json,
    scopes: [CLOUD_PLATFORM_SCOPE],
    transporter: options.transporter,
  };
  const client =
    'environment_id' in source
      ? new googleAuthLibrary.AwsClient(
          clientOptions as unknown as googleAuthLibrary.AwsClientOptions,
        )
      : new googleAuthLibrary.IdentityPoolClient(
          clientOptions as unknown as googleAuthLibrary.IdentityPoolClientOptions,
        );
  return new googleAuthLibrary.GoogleAuth({ authClient: client, projectId: options.projectId });
}

/**
 * Builds the profile's Google credentials. Every client shares `transporter`, so token exchanges
 * and API calls get the same TLS trust and the same redaction of bearer tokens.
 */
export async function buildGoogleAuth(options: CredentialOptions): Promise<GoogleAuth> {
  const { auth } = options;
  switch (auth.type) {
    case 'adc':
      return new googleAuthLibrary.GoogleAuth({
        scopes: [CLOUD_PLATFORM_SCOPE],
        projectId: options.projectId,
        clientOptions: { transporter: options.transporter },
      });
    case 'serviceAccountKey':
      return serviceAccountClient(options, auth.key);
    case 'externalAccount':
      return externalAccountClient(options, auth);
  }
}
