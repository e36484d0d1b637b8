import { createHttpClient } from '../../../agent/http/client.ts';
import { HttpSettingsSchema } from '../../../agent/http/settings.ts';
import type { ClosableHttpClient } from '../../../agent/http/types.ts';
import { SecretValue } from '../../../agent/plugin-api/index.ts';
import type { Asset, Clock, ConnectorEvent, JsonValue } from '../../../agent/plugin-api/index.ts';
import { connector } from '../../../connectors/anaplan/index.ts';
import { AnaplanConfigSchema, AnaplanParamsSchema } from '../../../connectors/anaplan/config.ts';
import type { AnaplanContext } from '../../../connectors/anaplan/extract.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import type { CapturedLogs } from '../../helpers/capture-logs.ts';
import { makeUserCertificate } from './pki.ts';
import type { UserCertificate } from './pki.ts';
import { startAnaplanSimulator } from './simulator.ts';
import type { AnaplanSimulator, AnaplanSimulatorOptions } from './simulator.ts';

/** A simulator, the real HTTP client bound to the connector's policy, and contexts for it. */
export interface AnaplanHarness {
  readonly simulator: AnaplanSimulator;
  readonly http: ClosableHttpClient;
  readonly logs: CapturedLogs;
  /** The certificate registered for the user, its key encrypted with `passphrase`. */
  readonly certificate: UserCertificate;
  readonly passphrase: string;
  /** Basic credentials unless `config.authMode` is `certificate`; `credentials` overrides them. */
  context(overrides?: ContextOverrides): AnaplanContext;
  close(): Promise<void>;
}

export interface ContextOverrides {
  readonly config?: Record<string, unknown>;
  /** Plain-text credentials, wrapped into SecretValues (and registered with the redactor). */
  readonly credentials?: Record<string, string>;
  readonly params?: Record<string, unknown>;
  readonly cursor?: JsonValue;
  readonly signal?: AbortSignal;
}

/** Options of the harness: the simulator's, and whether the user has a certificate. */
export interface AnaplanHarnessOptions extends AnaplanSimulatorOptions {
  /** A certificate to use instead of a fresh one (certificates take a moment to make). */
  readonly certificate?: UserCertificate & { readonly passphrase: string };
}

/** Starts a simulator and a real HTTP client with short retry waits, for the connector tests. */
export async function startAnaplanHarness(
  options: AnaplanHarnessOptions = {},
): Promise<AnaplanHarness> {
  const passphrase = options.certificate?.passphrase ?? 'harness-passphrase-7d1e';
  const certificate = options.certificate ?? makeUserCertificate({ passphrase });
  const simulator = await startAnaplanSimulator({
    ...options,
    certificates: [certificate.certificatePem, ...(options.certificates ?? [])],
  });
  const logs = captureLogs();
  const http = createHttpClient({
    policy: {
      allowedHosts: simulator.hosts,
      allowedCalls: connector.authCalls,
      allowedReads: connector.readPaths,
    },
    settings: HttpSettingsSchema.parse({
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 },
    }),
    redactor: logs.redactor,
    logger: logs.logger,
    errorDomain: 'source',
    userAgent: 'perimeter/test',
  });
  const context = (overrides: ContextOverrides = {}): AnaplanContext => {
    const certificateMode = overrides.config?.['authMode'] === 'certificate';
    const plain =
      overrides.credentials ??
      (certificateMode
        ? {
            certificate: certificate.certificatePem,
            privateKey: certificate.privateKeyPem,
            passphrase,
          }
        : { user: simulator.user, password: simulator.password });
    for (const value of Object.values(plain)) logs.redactor.add(value);
    return {
      config: AnaplanConfigSchema.parse({
        authUrl: simulator.authUrl,
        apiUrl: simulator.apiUrl,
        tenant: 'acme',
        credentials: Object.fromEntries(
          Object.entries(plain).map(([key, value]) => [key, new SecretValue(value)]),
        ),
        ...overrides.config,
      }),
      params: AnaplanParamsSchema.parse(overrides.params ?? {}),
      signal: overrides.signal ?? new AbortController().signal,
      logger: logs.logger.child({ component: 'connector', connector: 'anaplan', runId: 'run-1' }),
      http,
      cursor: overrides.cursor,
      runId: 'run-1',
    };
  };
  return {
    simulator,
    http,
    logs,
    certificate,
    passphrase,
    context,
    close: async () => {
      await http.close();
      await simulator.close();
    },
  };
}

/** What a read yielded: the assets and the checkpoints, in order. */
export interface ReadResult {
  readonly assets: Asset[];
  readonly checkpoints: JsonValue[];
}

/** Runs `read()` to the end and keeps everything. */
export async function readAll(ctx: AnaplanContext): Promise<ReadResult> {
  const events: ConnectorEvent[] = [];
  for await (const event of connector.read(ctx)) {
    events.push(event);
  }
  return {
    assets: events.flatMap((e) => (e.type === 'asset' ? [e.asset] : [])),
    checkpoints: events.flatMap((e) => (e.type === 'checkpoint' ? [e.cursor] : [])),
  };
}

/** A clock that tests move forward by hand; `schedule` uses the real timers. */
export function movableClock(): Clock & { advance(ms: number): void } {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    schedule: (callback, delayMs) => {
      const timer = setTimeout(callback, delayMs);
      return () => {
        clearTimeout(timer);
      };
    },
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}
