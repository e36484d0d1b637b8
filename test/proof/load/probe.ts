// Loaded into the agent by the load run only (`NODE_OPTIONS=--expose-gc --import <this file>`,
// test/proof/load/agent.ts); never part of the shipped agent. On SIGUSR2 it collects garbage and
// appends the live heap and RSS to LOAD_PROBE_FILE; when the process exits, it appends the
// resources still keeping the event loop alive (`process.getActiveResourcesInfo()`), less those
// open before the agent started (its own stdout and stderr pipes, opened here first).
import { appendFileSync } from 'node:fs';

const file = process.env['LOAD_PROBE_FILE'];
const gc = (globalThis as { gc?: () => void }).gc;

if (file !== undefined && gc !== undefined) {
  const write = (record: Record<string, unknown>): void => {
    appendFileSync(file, `${JSON.stringify({ atMs: Date.now(), ...record })}\n`);
  };
  // stdout and stderr are opened on first use; open them now so they are in the baseline.
  const stdio = { stdout: process.stdout.fd, stderr: process.stderr.fd };
  const baseline = process.getActiveResourcesInfo();
  process.on('SIGUSR2', () => {
    gc();
    const memory = process.memoryUsage();
    write({ kind: 'heap', liveHeapBytes: memory.heapUsed, rssBytes: memory.rss });
  });
  process.on('exit', (code) => {
    const left = [...baseline];
    const opened = process.getActiveResourcesInfo().filter((resource) => {
      const index = left.indexOf(resource);
      if (index === -1) {
        return true;
      }
      left.splice(index, 1);
      return false;
    });
    write({ kind: 'exit', code, stdio, baseline, resources: opened });
  });
}
