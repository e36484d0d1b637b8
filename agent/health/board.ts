import { monitorEventLoopDelay } from 'node:perf_hooks';
import { formatHead } from '../ledger/entry.ts';
import type { ChainHead } from '../ledger/entry.ts';
import type { HeartbeatBody, LinkStatus } from '../link/types.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ActiveRun } from '../queue/active-runs.ts';
import { queueDepth } from '../queue/queue.ts';
import type { QueueDepth, RunQueue } from '../queue/queue.ts';
import type { RedisHealth } from '../queue/redis.ts';
import type { EventOutbox } from '../run/contract.ts';
import { systemClock, waitAtMost } from '../plugin-api/index.ts';
import type { Clock } from '../plugin-api/index.ts';
import type { HealthDeps, HealthState, ReadinessDependency } from './app.ts';
import type { CachedProbe } from './probe.ts';
import type { RecentErrors } from './recent-errors.ts';

/** Who this agent is, for /status. */
export interface HealthIdentity {
  readonly version: string;
  readonly agentId: string;
  readonly roles: readonly string[];
  readonly startedAt: Date;
  /** Store profiles by name and scheme (never endpoints or credentials). */
  readonly secretStores: readonly { readonly profile: string; readonly scheme: string }[];
  readonly connectors: readonly { readonly name: string; readonly version: string }[];
}

/** The parts of the daemon the board reads; attached as they come up. */
export interface HealthParts {
  readonly redis: () => RedisHealth;
  readonly queue: RunQueue;
  readonly activeRuns: () => readonly ActiveRun[];
  readonly link: () => LinkStatus;
  readonly outbox: EventOutbox;
  readonly probes: readonly CachedProbe[];
  /** The outbound ledger's head. */
  readonly ledgerHead: () => Promise<ChainHead>;
}

/** Longest a scrape or /status waits for Redis before answering without queue figures. */
const REDIS_READ_TIMEOUT_MS = 2_000;

/**
 * Collects what /readyz, /metrics and /status show. The health server starts first (so /livez
 * answers during a slow start), and the parts attach as the daemon builds them.
 */
export class HealthBoard {
  readonly #identity: HealthIdentity;
  readonly #metrics: Metrics;
  readonly #state: () => HealthState;
  readonly #errors: RecentErrors;
  readonly #clock: Clock;
  readonly #loopDelay: ReturnType<typeof monitorEventLoopDelay> = monitorEventLoopDelay({
    resolution: 20,
  });
  #parts: Partial<HealthParts> = {};

  constructor(options: {
    identity: HealthIdentity;
    metrics: Metrics;
    state: () => HealthState;
    errors: RecentErrors;
    /** Times the bound of Redis reads. */
    clock?: Clock;
  }) {
    this.#identity = options.identity;
    this.#metrics = options.metrics;
    this.#state = options.state;
    this.#errors = options.errors;
    this.#clock = options.clock ?? systemClock;
    this.#loopDelay.enable();
  }

  /** Adds parts as they are built. */
  attach(parts: Partial<HealthParts>): void {
    this.#parts = { ...this.#parts, ...parts };
  }

  /** Stops the event-loop monitor. */
  close(): void {
    this.#loopDelay.disable();
  }

  /** The functions the health app serves. */
  deps(): HealthDeps {
    return {
      state: this.#state,
      dependencies: () => this.dependencies(),
      metrics: () => this.#renderMetrics(),
      status: () => this.#status(),
    };
  }

  /**
   * Dependency name → state. Redis is required for readiness; a probed dependency becomes
   * required while it refuses the agent's credentials (a wrong `catalog.token` will not heal).
   */
  dependencies(): Record<string, ReadinessDependency> {
    const { redis, link, probes } = this.#parts;
    const out: Record<string, ReadinessDependency> = {};
    const health = redis?.();
    out['redis'] =
      health === undefined
        ? { ok: false, detail: 'not_connected', required: true }
        : {
            ok: health.ready,
            detail: health.ready ? 'ready' : worstStatus(health),
            required: true,
          };
    if (link !== undefined) {
      const status = link();
      out['controlPlane'] = {
        ok: status.fresh,
        detail: status.fresh ? 'fresh' : (status.lastErrorCode ?? 'stale'),
        required: false,
      };
    }
    for (const probe of probes ?? []) {
      out[probe.name] = { ...probe.state, required: probe.state.refusedSetting !== undefined };
    }
    return out;
  }

  /** The body of the next heartbeat to the control plane (no secret, reference or config). */
  async heartbeat(): Promise<HeartbeatBody> {
    const identity = this.#identity;
    const depth = await this.#queueDepth();
    const dependencies = this.dependencies();
    const pending = await this.#pendingEvents();
    const head = await this.#ledgerHead();
    return {
      agentId: identity.agentId,
      version: identity.version,
      roles: identity.roles,
      connectors: identity.connectors,
      secretStores: identity.secretStores,
      queue: {
        waiting: depth?.waiting ?? 0,
        active: depth?.active ?? 0,
        delayed: depth?.delayed ?? 0,
        failed: depth?.failed ?? 0,
      },
      activeRuns: this.#parts.activeRuns?.().length ?? 0,
      health: {
        status: heartbeatStatus(
          this.#state(),
          Object.values(dependencies).every((d) => d.ok),
        ),
        dependencies: Object.fromEntries(
          Object.entries(dependencies).map(([name, d]) => [name, d.ok ? 'ok' : d.detail]),
        ),
      },
      pendingEvents: pending ?? 0,
      ...(head === undefined ? {} : { ledgerHead: formatHead(head) }),
    };
  }

  async #renderMetrics(): Promise<{ contentType: string; text: string }> {
    const depth = await this.#queueDepth();
    if (depth !== undefined) {
      for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) {
        this.#metrics.queueDepth.set({ state }, depth[state]);
      }
      this.#metrics.queueOldestJobAgeSeconds.set(depth.oldestWaitingMs / 1000);
    }
    // p99 of the delay since the last scrape, then start a new window.
    const p99 = this.#loopDelay.count > 0 ? this.#loopDelay.percentile(99) : 0;
    this.#metrics.eventLoopLagSeconds.set(p99 / 1e9);
    this.#loopDelay.reset();
    const registry = this.#metrics.registry;
    return { contentType: registry.contentType, text: await registry.metrics() };
  }

  async #status(): Promise<Record<string, unknown>> {
    const identity = this.#identity;
    const now = this.#clock.now();
    const pending = await this.#pendingEvents();
    return {
      version: identity.version,
      agentId: identity.agentId,
      roles: identity.roles,
      state: this.#state(),
      startedAt: identity.startedAt.toISOString(),
      uptimeSeconds: Math.round((now - identity.startedAt.getTime()) / 1000),
      queue: (await this.#queueDepth()) ?? null,
      activeRuns: (this.#parts.activeRuns?.() ?? []).map((run) => ({
        runId: run.runId,
        connector: run.connector,
        operation: run.operation,
        attempt: run.attempt,
        elapsedMs: now - run.startedAt,
      })),
      recentErrors: this.#errors.list(),
      link: this.#parts.link?.() ?? null,
      pendingEvents: pending ?? null,
      secretStores: identity.secretStores,
      dependencies: this.dependencies(),
      ledger: await this.#ledgerHead().then((head) =>
        head === undefined ? null : { seq: head.seq, hash: head.hash },
      ),
    };
  }

  async #ledgerHead(): Promise<ChainHead | undefined> {
    const read = this.#parts.ledgerHead;
    return read === undefined ? undefined : this.#redisRead(read());
  }

  async #pendingEvents(): Promise<number | undefined> {
    const outbox = this.#parts.outbox;
    return outbox === undefined ? undefined : this.#redisRead(outbox.pending());
  }

  async #queueDepth(): Promise<QueueDepth | undefined> {
    const queue = this.#parts.queue;
    return queue === undefined ? undefined : this.#redisRead(queueDepth(queue));
  }

  /** Redis down or slow: answer without the figure rather than fail or hang the scrape. */
  async #redisRead<T>(read: Promise<T>): Promise<T | undefined> {
    const outcome = await waitAtMost(read, REDIS_READ_TIMEOUT_MS, { clock: this.#clock }).catch(
      () => undefined,
    );
    return outcome === undefined || outcome.timedOut ? undefined : outcome.value;
  }
}

function heartbeatStatus(state: HealthState, allOk: boolean): HeartbeatBody['health']['status'] {
  switch (state) {
    case 'starting':
      return 'starting';
    case 'running':
      return allOk ? 'ready' : 'degraded';
    case 'draining':
    case 'stopped':
    case 'failed':
      return 'draining';
  }
}

/** The status of the first client that is not ready (`reconnecting`, `connecting`, `end`). */
function worstStatus(health: RedisHealth): string {
  return Object.values(health.clients).find((status) => status !== 'ready') ?? 'not_connected';
}
