#!/usr/bin/env node
// The one way Perimeter starts (the `perimeter` command, `npm start`/`npm run perimeter`, the
// container image): chooses the V8 heap settings, then runs the built agent (dist/) when present,
// else the TypeScript sources (Node 24 strips types).
//
// Heap settings can only be given when V8 starts, so when they are missing the process replaces
// itself (`process.execve`: same pid, same signals, nothing left running) with one that has them:
// an 8 MiB semi-space, so a streaming run is not slowed by constant scavenges (a larger one only
// costs RSS and cache misses: docs/performance.md), and an old space of 128 MiB (or a quarter of
// a smaller container memory limit), so memory stays flat however long the run: V8 otherwise
// lets a busy heap grow towards gigabytes before it collects. A flag given in NODE_OPTIONS or on
// the node command line wins (docs/performance.md). `--version` and `--help` only print, so they
// run in the first process as it is.
/* global URL, process */
import { existsSync } from 'node:fs';

const MIB = 1024 * 1024;
const SEMI_SPACE_MIB = 8;
const OLD_SPACE_MIB = 128;
const MIN_OLD_SPACE_MIB = 64;

/** The heap flags neither NODE_OPTIONS nor the node command line sets. */
function missingHeapFlags() {
  const given = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  const flags = [];
  if (!/--max[-_]semi[-_]space[-_]size/.test(given)) {
    flags.push(`--max-semi-space-size=${SEMI_SPACE_MIB}`);
  }
  if (!/--max[-_]old[-_]space[-_]size/.test(given)) {
    flags.push(`--max-old-space-size=${oldSpaceMiB()}`);
  }
  return flags;
}

function oldSpaceMiB() {
  // The cgroup memory limit, when there is one; otherwise a figure at least the machine's memory.
  const limitMiB = Math.floor((process.constrainedMemory?.() ?? 0) / MIB);
  const quarter = limitMiB > 0 ? Math.floor(limitMiB / 4) : OLD_SPACE_MIB;
  return Math.max(MIN_OLD_SPACE_MIB, Math.min(OLD_SPACE_MIB, quarter));
}

/** `--version` and `--help` print a line or a page: starting V8 a second time would double their cost. */
function onlyPrints(argv) {
  return (
    argv.length === 0 ||
    argv[0] === 'help' ||
    argv[0] === 'version' ||
    argv.some((arg) => ['--version', '-v', '--help', '-h'].includes(arg))
  );
}

const flags = onlyPrints(process.argv.slice(2)) ? [] : missingHeapFlags();
if (flags.length > 0 && typeof process.execve === 'function') {
  const node = process.execPath;
  process.execve(
    node,
    [node, ...flags, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}

const built = new URL('../dist/agent/main.js', import.meta.url);
const entry = existsSync(built) ? built : new URL('../agent/main.ts', import.meta.url);
const { mainWithDefaults } = await import(entry.href);
await mainWithDefaults();
