import type { ClosableHttpClient } from '../../../agent/http/types.ts';
import type { Clock, JsonValue } from '../../../agent/plugin-api/index.ts';
import { connector } from '../../../connectors/cyral/index.ts';
import { CyralConfigSchema, CyralParamsSchema } from '../../../connectors/cyral/config.ts';
import { extract } from '../../../connectors/cyral/extract.ts';
import type { CyralContext } from '../../../connectors/cyral/scope.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import type { CapturedLogs } from '../../helpers/capture-logs.ts';
import {
  ManualClock,
  collectEvents,
  connectorLogger,
  sourceHttpClient,
  wrapCredentials,
} from '../../helpers/connector-harness.ts';
import type { ReadResult } from '../../helpers/connector-harness.ts';
import { startCyralSimulator } from './simulator.ts';
import type { CyralSimulator, CyralSimulatorOptions } from './simulator.ts';

/** How to start a harness: the simulator's options, and how far each request moves the clock. */
export interface CyralHarnessOptions extends CyralSimulatorOptions {
  /** Each data request moves the shared clock this far, so tokens age as the run goes. */
  readonly clockStepMs?: number;
  /** How far a request to `path` moves the clock, where it differs from `clockStepMs`. */
  readonly stepFor?: (path: string) => number | undefined;
  /** Attempts of the agent's HTTP client per request. @default 3 */
  readonly httpAttempts?: number;
  /** Times the HTTP client's waits between retries. @default the system clock */
  readonly httpClock?: Clock;
}

/** A simulator, the real HTTP client bound to it, a shared clock and connector contexts. */
export interface CyralHarness {
  readonly simulator: CyralSimulator;
  readonly http: ClosableHttpClient;
  readonly logs: CapturedLogs;
  readonly clock: ManualClock;
  /** A context as the runtime would build it; `config` and `params` override the defaults. */
  context(overrides?: ContextOverrides): CyralContext;
  /** Runs an extract on the shared clock to its end and keeps everything. */
  readAll(ctx: CyralContext): Promise<ReadResult>;
  close(): Promise<void>;
}

export interface ContextOverrides {
  readonly config?: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
  readonly cursor?: JsonValue;
  readonly signal?: AbortSignal;
}

export type { ReadResult } from '../../helpers/connector-harness.ts';
export { countByType } from '../../helpers/connector-harness.ts';

/** Starts a simulator on a stepped clock and a real HTTP client with short retry waits. */
export async function startCyralHarness(options: CyralHarnessOptions = {}): Promise<CyralHarness> {
  const clock = new ManualClock();
  const step = options.clockStepMs ?? 0;
  const simulator = await startCyralSimulator({
    ...options,
    now: () => clock.now(),
    onRequest: (path) => {
      clock.advance(options.stepFor?.(path) ?? step);
      options.onRequest?.(path);
    },
  });
  const logs = captureLogs();
  logs.redactor.add(simulator.clientSecret);
  const http = sourceHttpClient({
    connector,
    hosts: [simulator.host],
    logs,
    attempts: options.httpAttempts ?? 3,
    baseDelayMs: 2,
    ...(options.httpClock === undefined ? {} : { clock: options.httpClock }),
  });
  const context = (overrides: ContextOverrides = {}): CyralContext => ({
    config: CyralConfigSchema.parse({
      baseUrl: simulator.url,
      tenant: 'acme',
      credentials: wrapCredentials(
        { clientId: simulator.clientId, clientSecret: simulator.clientSecret },
        logs,
      ),
      retry: { baseDelayMs: 2, maxDelayMs: 10 },
      ...overrides.config,
    }),
    params: CyralParamsSchema.parse(overrides.params ?? {}),
    signal: overrides.signal ?? new AbortController().signal,
    logger: connectorLogger(logs, 'cyral'),
    http,
    cursor: overrides.cursor,
    runId: 'run-1',
  });
  return {
    simulator,
    http,
    logs,
    clock,
    context,
    readAll: (ctx) => collectEvents(extract(ctx, { clock })),
    close: async () => {
      await http.close();
      await simulator.close();
    },
  };
}
