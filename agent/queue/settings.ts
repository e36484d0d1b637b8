import { z } from 'zod';
import { redisUrlProblem } from './redis-url.ts';

const SECRET_REF_PATTERN = /^[a-z][a-z0-9-]*:\/\/.+/;
const HOUR_MS = 3_600_000;

/**
 * The `redis` section: where the queue, the event outbox and the leases live. The URL is
 * checked by `parseRedisUrl` (agent/queue/redis-url.ts) as the config loads, so a bad form is
 * reported with every other problem, by key path, without echoing the URL.
 */
export const RedisSettingsSchema = z
  .strictObject({
    url: z
      .string()
      .superRefine((url, ctx) => {
        const problem = redisUrlProblem(url);
        if (problem !== undefined) {
          ctx.addIssue({ code: 'custom', message: problem });
        }
      })
      .default('redis://127.0.0.1:6379')
      .describe(
        'Redis to use: redis:// or rediss:// (TLS), redis-sentinel://h1:26379,h2:26379/<master>, or redis-cluster://h1:6379,h2:6379. No password in the URL.',
      ),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . -')
      .default('perimeter')
      .describe(
        'Prefix of every key; with Cluster it is wrapped in a hash tag ({perimeter}) so all keys share one slot.',
      ),
    username: z
      .string()
      .min(1)
      .optional()
      .describe('ACL user name, when Redis requires one (not a secret).'),
    password: z
      .string()
      .regex(
        SECRET_REF_PATTERN,
        'must be a secret reference (e.g. file:///var/run/secrets/redis/password), never the password itself',
      )
      .optional()
      .describe('Secret reference of the Redis password (Sentinel: also used for the sentinels).'),
    caFile: z
      .string()
      .min(1)
      .optional()
      .describe('PEM CA bundle that signed the Redis server certificate (rediss://).'),
    connectTimeoutMs: z
      .int()
      .min(100)
      .max(120_000)
      .default(10_000)
      .describe('Timeout of one connection attempt; reconnects back off up to 5 s.'),
  })
  .describe('Redis: queue, schedules, run events and per-connection leases.');

/** The parsed `redis` section. */
export type RedisSettings = z.output<typeof RedisSettingsSchema>;

/** The `queue` section: how runs are retried, locked and drained. */
export const QueueSettingsSchema = z
  .strictObject({
    concurrency: z
      .int()
      .min(1)
      .max(256)
      .default(4)
      .describe('Runs one worker process executes at once.'),
    attempts: z
      .int()
      .min(1)
      .max(100)
      .default(5)
      .describe(
        'Attempts of a run that fails with a retryable error (network, 5xx, 429, store down).',
      ),
    backoffMs: z
      .int()
      .min(10)
      .max(HOUR_MS)
      .default(5_000)
      .describe(
        'Ceiling of the first retry delay; doubles per attempt up to an hour. Each delay is uniform between 0 and its ceiling (full jitter), never below a Retry-After.',
      ),
    lockDurationMs: z
      .int()
      .min(1_000)
      .max(HOUR_MS)
      .default(120_000)
      .describe(
        'Lock of a running job, renewed every half of it; a worker that dies is noticed after this long.',
      ),
    stalledIntervalMs: z
      .int()
      .min(500)
      .max(HOUR_MS)
      .default(30_000)
      .describe(
        'How often workers look for runs whose lock expired (a dead worker) and requeue them.',
      ),
    maxStalledCount: z
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe('Times a run may be recovered from a dead worker before it fails.'),
    runTimeoutMs: z
      .int()
      .min(1_000)
      .default(6 * HOUR_MS)
      .describe(
        'Longest one attempt may run; then it stops at a checkpoint (RUN_TIMEOUT) and retries.',
      ),
    shutdownGraceMs: z
      .int()
      .min(0)
      .max(HOUR_MS)
      .default(25_000)
      .describe(
        'On SIGTERM, time active runs get to finish before they are stopped at a checkpoint and requeued.',
      ),
    keepCompleted: z
      .int()
      .min(0)
      .default(1_000)
      .describe('Finished runs kept in Redis (for inspection); older ones are removed.'),
    keepFailed: z
      .int()
      .min(0)
      .default(5_000)
      .describe('Failed runs kept in Redis; older ones are removed.'),
    leaseRetryMs: z
      .int()
      .min(10)
      .max(HOUR_MS)
      .default(5_000)
      .describe(
        'When a connection already runs its maximum of runs, how long a run waits before trying again (no attempt used).',
      ),
    dedupeWindowHours: z
      .int()
      .min(1)
      .max(24 * 90)
      .default(24 * 7)
      .describe('How long a run id is remembered, so a redelivered instruction never runs twice.'),
    maxWaitingRuns: z
      .int()
      .min(1)
      .default(10_000)
      .describe(
        'Most runs waiting in the queue; a run instruction beyond it is refused with QUEUE_FULL and reported to the control plane.',
      ),
    isolation: z
      .enum(['auto', 'thread', 'none'])
      .default('auto')
      .describe(
        "thread: each run's connector executes in a worker thread with a heap cap, so a runaway run fails alone (RUN_RESOURCE_EXHAUSTED); none: in the agent's own thread; auto: thread in the daemon (perimeter start), none in one-shot commands (perimeter run, check, discover), which are their one run.",
      ),
    runMemoryMb: z
      .int()
      .min(32)
      .max(65_536)
      .default(512)
      .describe(
        "Heap cap of one run's thread in MiB (isolation: thread), unless the connector or policy.connectors.<name>.runMemoryMb says otherwise.",
      ),
    eventsMaxLength: z
      .int()
      .min(1_000)
      .default(100_000)
      .describe(
        'Most undelivered run events kept for the control plane; beyond it the oldest are dropped.',
      ),
  })
  .describe('The run queue (BullMQ): retries, locks, timeouts and shutdown.');

/** The parsed `queue` section. */
export type QueueSettings = z.output<typeof QueueSettingsSchema>;
