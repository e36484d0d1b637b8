import { createHttpClient } from '../../../agent/http/client.ts';
import { HttpSettingsSchema } from '../../../agent/http/settings.ts';
import type { ClosableHttpClient } from '../../../agent/http/types.ts';
import { SecretValue, systemClock } from '../../../agent/plugin-api/index.ts';
import type { Asset, Clock, ConnectorEvent, JsonValue } from '../../../agent/plugin-api/index.ts';
import { connector } from '../../../connectors/cyral/index.ts';
import { CyralConfigSchema, CyralParamsSchema } from '../../../connectors/cyral/config.ts';
import { extract } from '../../../connectors/cyral/extract.ts';
import type { CyralContext } from '../../../connectors/cyral/scope.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import type { CapturedLogs } from '../../helpers/capture-logs.ts';
import { startCyralSimulator } from './simulator.ts';
import type { CyralSimulator, CyralSimulatorOptions } from './simulator.ts';

/** A clock whose time moves only when told (timers still run on real time, for short waits). */
export class SteppedClock implements Clock {
  #offsetMs = 0;
  readonly #startMs = Date.now();

  now(): number {
    return this.#startMs + this.#offsetMs;
  }

  schedule(callback: () => void, delayMs: number): () => void {
    return systemClock.schedule(callback, delayMs);
  }

  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

/** How to start a harness: the simulator's options, and how far each request moves the clock. */
export interface CyralHarnessOptions extends CyralSimulatorOptions {
  /** Each data request moves the shared clock this far, so tokens age as the run goes. */
  readonly clockStepMs?: number;
  /** Attempts of the agent's HTTP client per request. @default 3 */
  readonly httpAttempts?: number;
}

/** A simulator, the real HTTP client bound to it, a shared clock and connector contexts. */
export interface CyralHarness {
  readonly simulator: CyralSimulator;
  readonly http: ClosableHttpClient;
  readonly logs: CapturedLogs;
  readonly clock: SteppedClock;
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

/** What an extract yielded. */
export interface ReadResult {
  readonly assets: Asset[];
  readonly checkpoints: JsonValue[];
  readonly events: ConnectorEvent[];
}

/** Starts a simulator on a stepped clock and a real HTTP client with short retry waits. */
export async function startCyralHarness(options: CyralHarnessOptions = {}): Promise<CyralHarness> {
  const clock = new SteppedClock();
  const step = options.clockStepMs ?? 0;
  const simulator = await startCyralSimulator({
    now: () => clock.now(),
    onRequest: () => {
      clock.advance(step);
    },
    ...options,
  });
  const logs = captureLogs();
  logs.redactor.add(simulator.clientSecret);
  const http = createHttpClient({
    policy: {
      allowedHosts: [simulator.host],
      allowedCalls: connector.authCalls,
      allowedReads: connector.readPaths ?? [],
    },
    settings: HttpSettingsSchema.parse({
      retry: {
        maxAttempts: options.httpAttempts ?? 3,
        baseDelayMs: 2,
        maxDelayMs: 10,
        maxRetryAfterMs: 5_000,
      },
    }),
    redactor: logs.redactor,
    logger: logs.logger,
    errorDomain: 'source',
    userAgent: 'perimeter/test',
  });
  const context = (overrides: ContextOverrides = {}): CyralContext => ({
    config: CyralConfigSchema.parse({
      baseUrl: simulator.url,
      tenant: 'acme',
      credentials: {
        clientId: new SecretValue(simulator.clientId),
        clientSecret: new SecretValue(simulator.clientSecret),
      },
      retry: { baseDelayMs: 2, maxDelayMs: 10 },
      ...overrides.config,
    }),
    params: CyralParamsSchema.parse(overrides.params ?? {}),
    signal: overrides.signal ?? new AbortController().signal,
    logger: logs.logger.child({ component: 'connector', connector: 'cyral', runId: 'run-1' }),
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
    readAll: async (ctx) => {
      const events: ConnectorEvent[] = [];
      for await (const event of extract(ctx, { clock })) {
        events.push(event);
      }
      return {
        events,
        assets: events.flatMap((e) => (e.type === 'asset' ? [e.asset] : [])),
        checkpoints: events.flatMap((e) => (e.type === 'checkpoint' ? [e.cursor] : [])),
      };
    },
    close: async () => {
      await http.close();
      await simulator.close();
    },
  };
}

/** Counts assets by type name. */
export function countByType(assets: readonly Asset[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const asset of assets) {
    counts[asset.typeName] = (counts[asset.typeName] ?? 0) + 1;
  }
  return counts;
}
