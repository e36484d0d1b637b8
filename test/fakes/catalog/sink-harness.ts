import { createHttpClient } from '../../../agent/http/client.ts';
import { HttpSettingsSchema } from '../../../agent/http/settings.ts';
import { createMetrics } from '../../../agent/metrics/metrics.ts';
import type { Metrics } from '../../../agent/metrics/metrics.ts';
import { SecretValue } from '../../../agent/plugin-api/index.ts';
import type { Asset, JsonValue } from '../../../agent/plugin-api/index.ts';
import type { RunCheckpoint } from '../../../agent/sink/types.ts';
import { catalogDestinationPolicy, createCatalogSink } from '../../../agent/sink/catalog-sink.ts';
import { CatalogSettingsSchema } from '../../../agent/sink/settings.ts';
import type { Sink, SinkSummary } from '../../../agent/sink/types.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import type { CapturedLogs } from '../../helpers/capture-logs.ts';
import type { OutboundLedger } from '../../../agent/ledger/ledger.ts';

/** A catalog sink wired as the agent wires it: real HTTP client, policy, redactor, metrics. */
export interface SinkHarness {
  readonly sink: Sink;
  readonly logs: CapturedLogs;
  readonly metrics: Metrics;
  /** How many times the sink asked for the token. */
  readonly tokenFetches: () => number;
}

/** Options of {@link catalogSinkHarness}. */
export interface SinkHarnessOptions {
  /** The `catalog` section (url included); short retry waits are filled in. */
  readonly catalog: Record<string, unknown>;
  /** Token values handed out in turn (the last one repeats); none means no token. */
  readonly tokens?: readonly string[];
  readonly caPem?: string;
  readonly abortWaitMs?: number;
  readonly ledger?: OutboundLedger;
}

/** Builds a catalog sink against a receiver, with waits short enough for tests. */
export function catalogSinkHarness(options: SinkHarnessOptions): SinkHarness {
  const logs = captureLogs();
  const metrics = createMetrics();
  const settings = CatalogSettingsSchema.parse({
    ...options.catalog,
    retry: { baseDelayMs: 2, maxDelayMs: 20, ...(options.catalog['retry'] as object | undefined) },
  });
  const http = createHttpClient({
    policy: catalogDestinationPolicy(settings),
    settings: HttpSettingsSchema.parse({ retry: { baseDelayMs: 2, maxDelayMs: 20 } }),
    redactor: logs.redactor,
    logger: logs.logger,
    errorDomain: 'sink',
    userAgent: 'perimeter/test',
    metrics,
    ...(options.caPem === undefined ? {} : { extraCaPem: options.caPem }),
  });
  let fetches = 0;
  const tokens = options.tokens ?? [];
  const sink = createCatalogSink({
    settings,
    http,
    token: () => {
      const value = tokens[Math.min(fetches, tokens.length - 1)];
      fetches += 1;
      if (value === undefined) {
        return Promise.resolve(undefined);
      }
      logs.redactor.add(value);
      return Promise.resolve(new SecretValue(value));
    },
    logger: logs.logger,
    metrics,
    ...(options.abortWaitMs === undefined ? {} : { abortWaitMs: options.abortWaitMs }),
    ...(options.ledger === undefined ? {} : { ledger: options.ledger }),
  });
  return { sink, logs, metrics, tokenFetches: () => fetches };
}

/** One event of a connector's stream. */
export type StreamEvent =
  | { readonly type: 'asset'; readonly asset: Asset }
  | { readonly type: 'checkpoint'; readonly cursor: JsonValue };

/** How a pushed run ended: its summary, or the error it failed with; commits either way. */
export interface PushResult {
  readonly summary: SinkSummary | undefined;
  readonly error: unknown;
  readonly commits: readonly RunCheckpoint[];
}

/** Opens a run and feeds it events as the run executor does; aborts it when a call fails. */
export async function pushRun(
  sink: Sink,
  options: {
    readonly runId: string;
    readonly events: Iterable<StreamEvent>;
    readonly resume?: RunCheckpoint;
    readonly signal?: AbortSignal;
    readonly secretRefs?: readonly string[];
  },
): Promise<PushResult> {
  const commits: RunCheckpoint[] = [];
  const run = sink.open({
    runId: options.runId,
    connector: 'cyera',
    signal: options.signal ?? new AbortController().signal,
    ...(options.resume === undefined ? {} : { resume: options.resume }),
    ...(options.secretRefs === undefined ? {} : { secretRefs: options.secretRefs }),
    onCommit: (checkpoint) => {
      commits.push(checkpoint);
      return Promise.resolve();
    },
  });
  try {
    for (const event of options.events) {
      if (event.type === 'asset') {
        await run.write(event.asset);
      } else {
        await run.checkpoint(event.cursor);
      }
    }
    return { summary: await run.complete(), error: undefined, commits };
  } catch (error) {
    await run.abort();
    return { summary: undefined, error, commits };
  }
}

/** `count` synthetic assets from `start`, with a checkpoint (cursor = next index) every `every`. */
export function* pagedStream(
  start: number,
  count: number,
  every: number,
  asset: (index: number) => Asset,
): Generator<StreamEvent> {
  for (let index = start; index < start + count; index += 1) {
    yield { type: 'asset', asset: asset(index) };
    if ((index + 1) % every === 0) {
      yield { type: 'checkpoint', cursor: index + 1 };
    }
  }
}
