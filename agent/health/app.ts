import { fastify } from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { DependencyState } from './probe.ts';

/** The agent's lifecycle states (agent/daemon/lifecycle.ts), as the health server sees them. */
export type HealthState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** One dependency in /readyz. */
export interface ReadinessDependency extends DependencyState {
  /** Whether it failing makes the agent not ready (Redis); the others are reported only. */
  readonly required: boolean;
}

/** What the health server reads. Every function is cheap: cached or in-memory. */
export interface HealthDeps {
  readonly state: () => HealthState;
  /** Dependency name → its last known state. */
  readonly dependencies: () => Readonly<Record<string, ReadinessDependency>>;
  /** Prometheus text exposition, after refreshing the gauges that are computed on scrape. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly text: string }>;
  /** The operator view: no secret, credential, reference value or config. */
  readonly status: () => Promise<Record<string, unknown>>;
}

/** The body of /readyz. */
export interface ReadinessBody {
  readonly ready: boolean;
  readonly state: HealthState;
  readonly dependencies: Readonly<Record<string, ReadinessDependency>>;
}

/**
 * Builds the health server without listening (tests use `inject()`):
 * - `/livez`: 200 while the event loop turns; never checks a dependency, because a liveness
 *   probe that fails on a Redis outage restarts every pod at once and fixes nothing.
 * - `/readyz`: 200 only while running with every required dependency up; 503 while starting,
 *   draining or with Redis down. The body details each dependency.
 * - `/metrics`: Prometheus text. `/status`: JSON for operators.
 */
export function buildHealthApp(deps: HealthDeps): FastifyInstance {
  const app = fastify({ logger: false });
  app.get('/livez', async (_request, reply) => reply.code(200).send({ live: true }));
  app.get('/readyz', async (_request, reply) => {
    const body = readiness(deps);
    return reply.code(body.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_request, reply) => {
    const { contentType, text } = await deps.metrics();
    return reply.code(200).header('content-type', contentType).send(text);
  });
  app.get('/status', async (_request, reply) => reply.code(200).send(await deps.status()));
  return app;
}

/** Computes the readiness verdict and its detail. */
export function readiness(deps: Pick<HealthDeps, 'state' | 'dependencies'>): ReadinessBody {
  const state = deps.state();
  const dependencies = deps.dependencies();
  const requiredUp = Object.values(dependencies).every(
    (dependency) => dependency.ok || !dependency.required,
  );
  return { ready: state === 'running' && requiredUp, state, dependencies };
}
