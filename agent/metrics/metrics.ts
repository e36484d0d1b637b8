import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric Perimeter exposes, on a registry of its own (never the global one, so
 * tests and several agents in one process do not collide). Label values are connector names,
 * store schemes, outcomes and reasons: never ids, references or values. The one exception is
 * the `source` of the request-budget metrics: the source's host (no path, query or credential).
 */
export interface Metrics {
  readonly registry: Registry;
  readonly runsTotal: Counter<'connector' | 'operation' | 'outcome'>;
  readonly runDurationSeconds: Histogram<'connector' | 'operation'>;
  readonly assetsTotal: Counter<'connector'>;
  readonly batchesTotal: Counter<'outcome'>;
  readonly batchBytesTotal: Counter;
  readonly retriesTotal: Counter<'component' | 'reason'>;
  readonly secretFetchesTotal: Counter<'store' | 'outcome'>;
  readonly queueDepth: Gauge<'state'>;
  readonly queueOldestJobAgeSeconds: Gauge;
  readonly activeRuns: Gauge;
  readonly linkPollDurationSeconds: Histogram<'outcome'>;
  readonly linkErrorsTotal: Counter<'call'>;
  readonly instructionsTotal: Counter<'type' | 'outcome'>;
  readonly eventLoopLagSeconds: Gauge;
  readonly sourceBudgetRequestsPerSecond: Gauge<'connector' | 'source'>;
  readonly sourceBudgetWaitsTotal: Counter<'connector' | 'source'>;
  readonly sourceBudgetWaitMs: Histogram<'connector' | 'source'>;
  readonly sourceRateLimitedTotal: Counter<'connector' | 'source'>;
}

/** Builds the metrics on a new registry. `defaults` adds Node's process metrics. */
export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults === true) {
    collectDefaultMetrics({ register: registry, prefix: 'perimeter_' });
  }
  const on = { registers: [registry] };
  return {
    registry,
    runsTotal: new Counter({
      ...on,
      name: 'perimeter_runs_total',
      help: 'Finished runs by connector, operation and outcome (succeeded, failed, cancelled, aborted).',
      labelNames: ['connector', 'operation', 'outcome'],
    }),
    runDurationSeconds: new Histogram({
      ...on,
      name: 'perimeter_run_duration_seconds',
      help: 'Duration of finished runs.',
      labelNames: ['connector', 'operation'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400],
    }),
    assetsTotal: new Counter({
      ...on,
      name: 'perimeter_assets_total',
      help: 'Assets accepted by the catalog (or written to --output), by connector.',
      labelNames: ['connector'],
    }),
    batchesTotal: new Counter({
      ...on,
      name: 'perimeter_batches_total',
      help: 'Batches by outcome: stored (202), duplicate (200), rejected (4xx), written (--output files).',
      labelNames: ['outcome'],
    }),
    batchBytesTotal: new Counter({
      ...on,
      name: 'perimeter_batch_bytes_total',
      help: 'Uncompressed NDJSON bytes of accepted batches.',
    }),
    retriesTotal: new Counter({
      ...on,
      name: 'perimeter_retries_total',
      help: 'Retries by component (source, sink, controlPlane, secrets, run) and reason (status429, status5xx, network, timeout, ...).',
      labelNames: ['component', 'reason'],
    }),
    secretFetchesTotal: new Counter({
      ...on,
      name: 'perimeter_secret_fetches_total',
      help: 'Secret store reads by store scheme and outcome (fetched, cached, stale, not_found, denied, unavailable).',
      labelNames: ['store', 'outcome'],
    }),
    queueDepth: new Gauge({
      ...on,
      name: 'perimeter_queue_jobs',
      help: 'Jobs in the queue by state (waiting, active, delayed, failed).',
      labelNames: ['state'],
    }),
    queueOldestJobAgeSeconds: new Gauge({
      ...on,
      name: 'perimeter_queue_oldest_waiting_job_age_seconds',
      help: 'Age of the oldest waiting job; 0 when none waits.',
    }),
    activeRuns: new Gauge({
      ...on,
      name: 'perimeter_active_runs',
      help: 'Runs executing in this process.',
    }),
    linkPollDurationSeconds: new Histogram({
      ...on,
      name: 'perimeter_link_poll_duration_seconds',
      help: 'Duration of instruction long-polls to the control plane, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.05, 0.25, 1, 5, 15, 30, 60],
    }),
    linkErrorsTotal: new Counter({
      ...on,
      name: 'perimeter_link_errors_total',
      help: 'Failed control-plane calls by call (poll, ack, heartbeat, events).',
      labelNames: ['call'],
    }),
    instructionsTotal: new Counter({
      ...on,
      name: 'perimeter_instructions_total',
      help: 'Instructions received by type and outcome (accepted, refused, duplicate).',
      labelNames: ['type', 'outcome'],
    }),
    eventLoopLagSeconds: new Gauge({
      ...on,
      name: 'perimeter_event_loop_lag_seconds',
      help: 'Event-loop delay (p99 over the last sampling window).',
    }),
    ...budgetMetrics(on),
  };
}

function budgetMetrics(on: {
  registers: Registry[];
}): Pick<
  Metrics,
  | 'sourceBudgetRequestsPerSecond'
  | 'sourceBudgetWaitsTotal'
  | 'sourceBudgetWaitMs'
  | 'sourceRateLimitedTotal'
> {
  const labelNames = ['connector', 'source'] as const;
  return {
    sourceBudgetRequestsPerSecond: new Gauge({
      ...on,
      name: 'perimeter_source_budget_requests_per_second',
      help: 'Request budget in force per source host (halved while slowed after a 429).',
      labelNames,
    }),
    sourceBudgetWaitsTotal: new Counter({
      ...on,
      name: 'perimeter_source_budget_waits_total',
      help: 'Requests that waited for the source budget, per source host.',
      labelNames,
    }),
    sourceBudgetWaitMs: new Histogram({
      ...on,
      name: 'perimeter_source_budget_wait_ms',
      help: 'Wait for the source budget of every request drawn from it (0 when none), in ms, per source host.',
      labelNames,
      buckets: [0, 5, 25, 100, 250, 1000, 2500, 10_000, 30_000, 120_000],
    }),
    sourceRateLimitedTotal: new Counter({
      ...on,
      name: 'perimeter_source_rate_limited_total',
      help: '429 answers per source host; each slows every run and replica on that source.',
      labelNames,
    }),
  };
}
