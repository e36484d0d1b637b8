// The daemon's /readyz and /status answers, as a person reads them: one aligned line per part.

interface Dependency {
  readonly ok: boolean;
  readonly detail?: string;
  readonly required?: boolean;
}

/** `ready: true (running)`, then one line per dependency. */
export function readyzLines(body: unknown): string[] {
  const readyz = body as {
    ready?: boolean;
    state?: string;
    dependencies?: Record<string, Dependency>;
  };
  return [
    `ready ${String(readyz.ready)} (${readyz.state ?? '?'})`,
    ...dependencyLines(readyz.dependencies ?? {}),
  ];
}

/** Agent, queue counts, link counters, active runs and recent errors. */
export function statusLines(body: unknown): string[] {
  const status = body as {
    version?: string;
    agentId?: string;
    roles?: string[];
    state?: string;
    uptimeSeconds?: number;
    queue?: Record<string, number>;
    activeRuns?: { runId: string; connector: string; operation: string }[];
    recentErrors?: unknown[];
    link?: { fresh?: boolean; instructionsAccepted?: number; instructionsRefused?: number };
    pendingEvents?: number;
  };
  const queue = Object.entries(status.queue ?? {})
    .map(([name, count]) => `${name} ${String(count)}`)
    .join(', ');
  const active = (status.activeRuns ?? []).map(
    (run) => `${run.runId} (${run.connector} ${run.operation})`,
  );
  return [
    `${'agent'.padEnd(14)}${status.agentId ?? '?'} ${status.version ?? ''}, roles ${(status.roles ?? []).join('+')}, ${status.state ?? '?'}, up ${String(status.uptimeSeconds)} s`,
    `${'queue'.padEnd(14)}${queue}`,
    `${'link'.padEnd(14)}${status.link?.fresh === true ? 'fresh' : 'stale'}, ${String(status.link?.instructionsAccepted)} instructions accepted, ${String(status.link?.instructionsRefused)} refused; ${String(status.pendingEvents)} events pending`,
    `${'active runs'.padEnd(14)}${active.length === 0 ? 'none' : active.join(', ')}`,
    `${'recent errors'.padEnd(14)}${String(status.recentErrors?.length ?? 0)}`,
  ];
}

function dependencyLines(dependencies: Record<string, Dependency>): string[] {
  const width = Math.max(...Object.keys(dependencies).map((name) => name.length));
  return Object.entries(dependencies).map(
    ([name, dependency]) =>
      `  ${name.padEnd(width)}  ${dependency.ok ? 'ok  ' : 'DOWN'}  ${(dependency.detail ?? '').padEnd(6)}  ${dependency.required === true ? 'required' : 'optional'}`,
  );
}
