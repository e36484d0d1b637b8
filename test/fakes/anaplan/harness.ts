import type { ClosableHttpClient } from '../../../agent/http/types.ts';
import type { JsonValue } from '../../../agent/plugin-api/index.ts';
import { connector } from '../../../connectors/anaplan/index.ts';
import { AnaplanConfigSchema, AnaplanParamsSchema } from '../../../connectors/anaplan/config.ts';
import type { AnaplanContext } from '../../../connectors/anaplan/extract.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import type { CapturedLogs } from '../../helpers/capture-logs.ts';
import {
  collectEvents,
  connectorLogger,
  sourceHttpClient,
  wrapCredentials,
} from '../../helpers/connector-harness.ts';
import type { ReadResult } from '../../helpers/connector-harness.ts';
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
  const http = sourceHttpClient({ connector, hosts: simulator.hosts, logs });
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
    return {
      config: AnaplanConfigSchema.parse({
        authUrl: simulator.authUrl,
        apiUrl: simulator.apiUrl,
        tenant: 'acme',
        credentials: wrapCredentials(plain, logs),
        ...overrides.config,
      }),
      params: AnaplanParamsSchema.parse(overrides.params ?? {}),
      signal: overrides.signal ?? new AbortController().signal,
      logger: connectorLogger(logs, 'anaplan'),
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

export type { ReadResult } from '../../helpers/connector-harness.ts';

/** Runs `read()` to the end and keeps everything. */
export function readAll(ctx: AnaplanContext): Promise<ReadResult> {
  return collectEvents(connector.read(ctx));
}
