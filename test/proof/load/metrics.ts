// What the load run reads from the agent: its Prometheus text (/metrics) and the probe's file
// (probe.ts). Prometheus text is read line by line: `name{labels} value`, comments skipped.
import { readFileSync } from 'node:fs';

/** One scrape of /metrics, reduced to what the load run records. */
export interface Scrape {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** p99 of the event-loop delay since the previous scrape. */
  readonly lagSeconds: number;
  readonly runsSucceeded: number;
  readonly runsFailed: number;
  readonly assets: number;
  readonly activeHandles: number;
}

/** Reads a scrape out of Prometheus text; a metric the agent does not expose reads as 0. */
export function parseScrape(text: string): Scrape {
  const sums = new Map<string, number>();
  const runs = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null) {
      continue;
    }
    const [, name = '', labels = '', raw = ''] = match;
    const value = Number(raw);
    sums.set(name, (sums.get(name) ?? 0) + value);
    if (name === 'perimeter_runs_total') {
      const outcome = /outcome="([^"]*)"/.exec(labels)?.[1] ?? '';
      runs.set(outcome, (runs.get(outcome) ?? 0) + value);
    }
  }
  const get = (name: string): number => sums.get(name) ?? 0;
  return {
    rssBytes: get('perimeter_process_resident_memory_bytes'),
    heapUsedBytes: get('perimeter_nodejs_heap_size_used_bytes'),
    lagSeconds: get('perimeter_event_loop_lag_seconds'),
    runsSucceeded: runs.get('succeeded') ?? 0,
    runsFailed: [...runs].filter(([o]) => o !== 'succeeded').reduce((a, [, v]) => a + v, 0),
    assets: get('perimeter_assets_total'),
    activeHandles: get('perimeter_nodejs_active_handles_total'),
  };
}

/** A probe record: live heap after a full GC, or what was still open at exit. */
export type ProbeRecord =
  | { kind: 'heap'; atMs: number; liveHeapBytes: number; rssBytes: number }
  | { kind: 'exit'; atMs: number; code: number; resources: string[] };

/** Every record the probe wrote so far. */
export function readProbe(path: string): ProbeRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ProbeRecord);
}
