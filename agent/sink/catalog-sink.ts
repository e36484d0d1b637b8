import { statusRetryReason, transportRetryReason } from '../http/error-map.ts';
import type { RetryReason } from '../http/error-map.ts';
import { planRetry } from '../http/retry.ts';
import type { ClosableHttpClient, DestinationPolicy } from '../http/types.ts';
import type { OutboundLedger, OutboundRequest } from '../ledger/ledger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError, isPerimeterError, sleep, toPerimeterError } from '../plugin-api/index.ts';
import type { Logger, SecretValue } from '../plugin-api/index.ts';
import { GzipBody } from './gzip-body.ts';
import { createSinkRegistry } from './registry.ts';
import type { CatalogSettings } from './settings.ts';
import type {
  BatchOutcome,
  BatchTransport,
  RunCounts,
  SealedBatch,
  Sink,
  SinkSummary,
} from './types.ts';
import { servicePolicy } from '../http/policy.ts';

const BATCHES_ENDPOINT = 'POST /v1/runs/{runId}/batches';
const COMPLETE_ENDPOINT = 'POST /v1/runs/{runId}/complete';

/** What the catalog sink needs. */
export interface CatalogSinkOptions {
  readonly settings: CatalogSettings;
  /** A client built with {@link catalogDestinationPolicy} and `errorDomain: 'sink'`; closed by the sink. */
  readonly http: ClosableHttpClient;
  /** The bearer token, fetched for every batch so that a rotated token is picked up. */
  readonly token: () => Promise<SecretValue | undefined>;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Records every batch and `complete` sent (one entry per attempt that reached the catalog). */
  readonly ledger?: OutboundLedger;
  /** How long `abort()` waits for batches in flight. @default 10000 */
  readonly abortWaitMs?: number;
}

/**
 * The destination policy of the catalog client: the catalog's host only, and only the two calls
 * of the push protocol (DESIGN §5) below the configured base path.
 */
export function catalogDestinationPolicy(
  settings: Pick<CatalogSettings, 'url'>,
): DestinationPolicy {
  return servicePolicy(settings.url, ['/v1/runs/*/batches', '/v1/runs/*/complete']);
}

/** The sink that pushes gzip NDJSON batches to the catalog over HTTPS. */
export function createCatalogSink(options: CatalogSinkOptions): Sink {
  const logger = options.logger.child({ component: 'sink' });
  return createSinkRegistry({
    batching: options.settings,
    logger,
    metrics: options.metrics,
    abortWaitMs: options.abortWaitMs ?? 10_000,
    transportFor: ({ runId, secretRefs }) =>
      new CatalogTransport(runId, secretRefs, options, logger.child({ runId })),
    closeTransport: () => options.http.close(),
  });
}

/**
 * Pushes a reviewed run: each batch's NDJSON, gzipped as a direct push would, under the same
 * idempotency key (`runId:seq`), with the same retries and ledger entries; then `complete`.
 */
export async function pushReviewedRun(
  options: CatalogSinkOptions,
  run: {
    readonly runId: string;
    readonly batches: readonly { seq: number; assets: number; bytes: number; ndjson: Buffer }[];
    readonly summary: SinkSummary;
    /** The extract's counts from its manifest, sent with `complete` as a direct push sends them. */
    readonly counts?: RunCounts | undefined;
  },
  signal: AbortSignal,
): Promise<void> {
  const logger = options.logger.child({ component: 'sink', runId: run.runId });
  const transport = new CatalogTransport(run.runId, undefined, options, logger);
  for (const batch of run.batches) {
    const body = transport.createBody();
    await body.append(batch.ndjson);
    const payload = await body.finish();
    await transport.send(
      { seq: batch.seq, assets: batch.assets, bytes: batch.bytes, payload },
      signal,
    );
  }
  await transport.complete(run.summary, signal, run.counts);
}

/** Posts one run's batches and its completion. */
class CatalogTransport implements BatchTransport<Buffer> {
  readonly #runId: string;
  readonly #secretRefs: readonly string[] | undefined;
  readonly #options: CatalogSinkOptions;
  readonly #logger: Logger;
  readonly #runUrl: string;

  constructor(
    runId: string,
    secretRefs: readonly string[] | undefined,
    options: CatalogSinkOptions,
    logger: Logger,
  ) {
    this.#runId = runId;
    this.#secretRefs = secretRefs;
    this.#options = options;
    this.#logger = logger;
    this.#runUrl = `${options.settings.url}/v1/runs/${encodeURIComponent(runId)}`;
  }

  createBody(): GzipBody {
    return new GzipBody(this.#options.settings.gzipLevel);
  }

  async send(batch: SealedBatch<Buffer>, signal: AbortSignal): Promise<BatchOutcome> {
    const idempotencyKey = `${this.#runId}:${batch.seq}`;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#post(batch, idempotencyKey, signal);
      } catch (error) {
        await this.#recordFailure(error, 'catalog.batch', batch.payload, batch.assets);
        await this.#beforeRetry(error, attempt, batch.seq, signal);
      }
    }
  }

  async complete(summary: SinkSummary, signal: AbortSignal, counts?: RunCounts): Promise<void> {
    // Serialised here, not by the client, so the ledger digests the exact bytes sent.
    const body = JSON.stringify({
      assets: summary.assets,
      batches: summary.batches,
      complete: true,
      ...counts,
    });
    let response;
    try {
      response = await this.#options.http.request({
        method: 'POST',
        url: `${this.#runUrl}/complete`,
        headers: { 'content-type': 'application/json', ...(await this.#authHeaders()) },
        body,
        signal,
        endpoint: COMPLETE_ENDPOINT,
        retry: true,
      });
    } catch (error) {
      await this.#recordFailure(error, 'catalog.complete', body, summary.assets);
      throw error;
    }
    const answer = await response.text();
    await this.#record('catalog.complete', body, response.status, summary.assets);
    if (!answered(answer, (value) => value['complete'] === true)) {
      throw unusableAnswer(response.status, `the completion of run ${this.#runId}`);
    }
    this.#logger.info({ ...summary }, 'Catalog run completed');
  }

  async #post(
    batch: SealedBatch<Buffer>,
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<BatchOutcome> {
    const response = await this.#options.http.request({
      method: 'POST',
      url: `${this.#runUrl}/batches`,
      headers: {
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
        'idempotency-key': idempotencyKey,
        ...(await this.#authHeaders()),
      },
      body: batch.payload,
      signal,
      endpoint: BATCHES_ENDPOINT,
      retry: false,
    });
    const answer = await response.text();
    await this.#record('catalog.batch', batch.payload, response.status, batch.assets);
    // A 2xx counts as stored only with the protocol's answer naming this batch's key: a 200
    // from a proxy or a broken catalog must not let a run claim assets nobody stored.
    if (!answered(answer, (value) => value['key'] === idempotencyKey)) {
      throw unusableAnswer(response.status, `batch ${batch.seq} of run ${this.#runId}`);
    }
    return response.status === 200 ? 'duplicate' : 'stored';
  }

  /** One ledger entry per request that reached the catalog; per batch, never per asset. */
  async #record(
    kind: OutboundRequest['kind'],
    body: Buffer | string,
    status: number | undefined,
    assets: number,
  ): Promise<void> {
    await this.#options.ledger?.record({
      kind,
      runId: this.#runId,
      method: 'POST',
      url: `${this.#runUrl}/${kind === 'catalog.batch' ? 'batches' : 'complete'}`,
      body,
      status,
      assets,
      ...(this.#secretRefs === undefined ? {} : { secretRefs: this.#secretRefs }),
    });
  }

  /** A refused or failed attempt was sent too (unless the policy stopped it before any socket). */
  async #recordFailure(
    error: unknown,
    kind: OutboundRequest['kind'],
    body: Buffer | string,
    assets: number,
  ): Promise<void> {
    if (isPerimeterError(error, 'SINK_UNAVAILABLE') || isPerimeterError(error, 'SINK_REJECTED')) {
      const status = error.context['status'];
      await this.#record(kind, body, typeof status === 'number' ? status : undefined, assets);
    }
  }

  /** Waits before the next attempt, or throws the error when it is final. */
  async #beforeRetry(
    error: unknown,
    attempt: number,
    seq: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (!isPerimeterError(error, 'SINK_UNAVAILABLE') || signal.aborted) {
      throw this.#finalError(error, seq);
    }
    const plan = planRetry(attempt, error.retryAfterMs, this.#options.settings.retry);
    if (!plan.retry) {
      throw new PerimeterError(
        'SINK_UNAVAILABLE',
        `The catalog did not accept batch ${seq} of run ${this.#runId} after ${attempt} attempt(s); the run resumes from its last checkpoint.`,
        {
          cause: error,
          context: { runId: this.#runId, seq, attempts: attempt },
          retryAfterMs: plan.retryAfterMs,
        },
      );
    }
    const reason = retryReason(error);
    this.#options.metrics?.retriesTotal.inc({ component: 'sink', reason });
    this.#logger.warn({ seq, attempt, reason, delayMs: plan.delayMs }, 'Batch retried');
    // Rejects only when the signal aborts, with its reason.
    await sleep(plan.delayMs, { signal }).catch((reason: unknown) => {
      throw toPerimeterError(reason);
    });
  }

  /** A refusal gets the run and the batch in its context; other errors pass unchanged. */
  #finalError(error: unknown, seq: number): unknown {
    if (!isPerimeterError(error, 'SINK_REJECTED')) {
      return error;
    }
    this.#options.metrics?.batchesTotal.inc({ outcome: 'rejected' });
    const status = error.context['status'];
    return new PerimeterError(
      'SINK_REJECTED',
      `The catalog refused batch ${seq} of run ${this.#runId} (${String(status)}). Check catalog.url and catalog.token; the run fails without claiming completeness.`,
      { cause: error, context: { runId: this.#runId, seq, status } },
    );
  }

  async #authHeaders(): Promise<Record<string, string>> {
    const token = await this.#options.token();
    return token === undefined ? {} : { authorization: `Bearer ${token.reveal()}` };
  }
}

/** Whether a 2xx body is a JSON object that passes `check` (catalog protocol v1 answers). */
function answered(text: string, check: (value: Record<string, unknown>) => boolean): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && check(value as Record<string, unknown>);
  } catch {
    return false;
  }
}

/** A 2xx without the protocol's answer: retried like an outage, never taken as stored. */
function unusableAnswer(status: number, what: string): PerimeterError {
  return new PerimeterError(
    'SINK_UNAVAILABLE',
    `The catalog answered ${status} to ${what} without the protocol's answer (the body names no matching key); it is sent again. Check that catalog.url reaches the catalog itself.`,
    { retryable: true, context: { status } },
  );
}

/** The `reason` label of a retry: the status family, or the kind of network failure. */
function retryReason(error: PerimeterError): RetryReason {
  const status = error.context['status'];
  const reason =
    typeof status === 'number' ? statusRetryReason(status) : transportRetryReason(error.cause);
  return reason ?? 'network';
}
