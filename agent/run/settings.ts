import { z } from 'zod';

/** Connection, profile and agent ids. */
export const ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** `host`, `host:port`, `host:*`, `*.domain[:port]`, `[v6]:port`. */
const HOST_PATTERN =
  /^(?:(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::(?:\d{1,5}|\*))?$/i;

export const HostPatternSchema = z
  .string()
  .regex(HOST_PATTERN, 'must be a host pattern: host, host:port, host:* or *.domain');

export const ConnectorPolicySchema = z
  .strictObject({
    allowHosts: z
      .array(HostPatternSchema)
      .default([])
      .describe("Hosts added to the connector's default set, e.g. 127.0.0.1:* for a simulator."),
    inlineSecretRefs: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Globs over scheme://locator of the references that inline connections from the control plane may use. None by default.',
      ),
    maxConcurrentRunsPerConnection: z
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe(
        'Runs of one connection at the same time; 1 means a source is never hit twice at once.',
      ),
    runMemoryMb: z
      .int()
      .min(32)
      .max(65_536)
      .optional()
      .describe(
        "Heap cap of one run of this connector in MiB (queue.isolation: thread); default: the connector's own, else queue.runMemoryMb.",
      ),
  })
  .describe('Local policy of one connector.');

export const PolicySettingsSchema = z
  .strictObject({
    allowInlineConnections: z
      .boolean()
      .default(true)
      .describe(
        'Whether control-plane instructions may carry inline connections (still bound by the connector policy).',
      ),
    connectors: z
      .record(z.string(), ConnectorPolicySchema)
      .default({})
      .describe('Per-connector policy, keyed by connector name.'),
  })
  .describe('The destination and secret policy the control plane cannot widen.');

/** A connection's request budget, shared by every run and replica on its source. */
export const RateLimitSchema = z
  .strictObject({
    requestsPerSecond: z
      .number()
      .positive()
      .max(10_000)
      .describe('Sustained requests per second to the source, across all runs and replicas.'),
    burst: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .describe('Requests that may go at once after a quiet spell.'),
  })
  .describe(
    "Request budget of the source (connector + endpoint origin): a token bucket kept in Redis and shared by every run and replica; a 429 pauses it for Retry-After and halves it for 30 s. Default: the connector's own.",
  );

/** A locally defined connection: the connector's settings, credentials as references. */
export const ConnectionSettingsSchema = z
  .looseObject({
    connector: z.string().min(1).describe('Connector name, e.g. cyera.'),
    rateLimit: RateLimitSchema.optional(),
  })
  .describe(
    "A connection: connector name plus that connector's settings; credentials are secret references.",
  );

/** Connections by id, as the config's `connections` section holds them. */
export const ConnectionsSchema = z
  .record(
    z.string().regex(ID_PATTERN, 'connection ids are lower-case, digits and dashes'),
    ConnectionSettingsSchema,
  )
  .default({})
  .describe('Connections by id: connector, settings, credentials as secret references.');

/** What preparing a run reads of the configuration: local connections and local policy. */
export interface RunSettings {
  readonly connections: z.output<typeof ConnectionsSchema>;
  readonly policy: z.output<typeof PolicySettingsSchema>;
}

/** When an extract's batches wait for an operator instead of going to the catalog. */
export const ReviewModeSchema = z
  .enum(['off', 'first', 'every'])
  .describe(
    'off: push directly; first: hold the first extract of a connection until one is approved; every: hold every extract.',
  );

export type ReviewMode = z.output<typeof ReviewModeSchema>;

/** The `review` section: agent-wide mode, per-connection overrides and the review area. */
export const ReviewSettingsSchema = z
  .strictObject({
    mode: ReviewModeSchema.default('off'),
    dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The review area: held runs are written to `<dir>/<runId>/` (the `--output` layout). Required when any mode is not off.',
      ),
    connections: z
      .record(
        z.string().regex(ID_PATTERN, 'connection ids are lower-case, digits and dashes'),
        ReviewModeSchema,
      )
      .default({})
      .describe('Per-connection mode, keyed by connection id; overrides `mode`.'),
  })
  .refine(
    (review) =>
      review.dir !== undefined ||
      (review.mode === 'off' && Object.values(review.connections).every((m) => m === 'off')),
    { message: 'review.dir is required when a review mode is first or every', path: ['dir'] },
  )
  .describe('Review before the push: which extracts are held in a review area for an operator.');

export type ReviewSettings = z.output<typeof ReviewSettingsSchema>;

/**
 * The review mode of a run's connection: the per-connection override, else the agent-wide mode.
 * Inline connections (no id) follow the agent-wide mode.
 */
export function reviewModeOf(review: ReviewSettings, connectionId: string | undefined): ReviewMode {
  return (connectionId === undefined ? undefined : review.connections[connectionId]) ?? review.mode;
}
