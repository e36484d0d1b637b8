// Runs around every test file (vitest `setupFiles`): removes the file's remaining temp folders,
// then fails the file when it leaves open a handle it opened (a server, a socket such as a Redis
// or BullMQ connection, a child process) or a `process` listener it added. Counts are compared
// per file, before its first hook and after its last, so vitest's own handles (the worker's IPC
// channel, its stdio) cancel out.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { removeFileTempDirs } from '../helpers/temp-dir.ts';

// Kinds not counted: timers and immediates (vitest's RPC and the libraries' unref'd keep-alive
// timers come and go; a leaked ref'd timer shows in the handles it drives), and in-flight fs and
// DNS requests, which finish on their own.
const TRANSIENT = new Set([
  'Timeout',
  'Immediate',
  'FSReqCallback',
  'FSReqPromise',
  'FileHandleCloseReq',
  'GetAddrInfoReqWrap',
  'GetNameInfoReqWrap',
  'StatWatcher',
]);

const KINDS: Record<string, string> = {
  TCPServerWrap: 'a TCP/HTTP server still listening',
  TCPSocketWrap: 'a TCP socket still open (a Redis or BullMQ connection, a keep-alive client)',
  TLSWrap: 'a TLS socket still open',
  ProcessWrap: 'a child process not ended',
  PipeWrap: 'a pipe still open (a child process’s stdio)',
  PipeServerWrap: 'a pipe server still listening',
  UDPWrap: 'a UDP socket still open',
};

const EVENTS = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'exit',
  'beforeExit',
  'uncaughtException',
  'unhandledRejection',
] as const;

/** How long the after-check waits for handles that are closing (sockets end a tick later). */
const SETTLE_MS = 3_000;

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (!TRANSIENT.has(kind)) {
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
  }
  return counts;
}

function listenerCounts(): Map<string, number> {
  return new Map(EVENTS.map((event) => [event, process.listenerCount(event)]));
}

function leaks(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after]
    .filter(([kind, count]) => count > (before.get(kind) ?? 0))
    .map(([kind, count]) => `${count - (before.get(kind) ?? 0)} × ${kind}`);
}

let resourcesBefore = new Map<string, number>();
let listenersBefore = new Map<string, number>();

beforeAll(() => {
  // The stdio streams open their handle (a pipe, in a vitest worker) on first use: stderr by the
  // first warning printed, stdin by the Azure SDK looking at it. Opened here, they are not
  // counted against the file.
  const _stdio = [process.stdin, process.stdout, process.stderr];
  resourcesBefore = resourceCounts();
  listenersBefore = listenerCounts();
});

afterAll(async () => {
  removeFileTempDirs();
  const deadline = Date.now() + SETTLE_MS;
  let handles = leaks(resourcesBefore, resourceCounts());
  while (handles.length > 0 && Date.now() < deadline) {
    await sleep(20);
    handles = leaks(resourcesBefore, resourceCounts());
  }
  const listeners = leaks(listenersBefore, listenerCounts());
  if (handles.length === 0 && listeners.length === 0) {
    return;
  }
  const described = handles.map((leak) => {
    const kind = leak.slice(leak.indexOf('× ') + 2);
    return `${leak} (${KINDS[kind] ?? 'a handle'})`;
  });
  throw new Error(
    [
      'This test file leaves open what it opened; close it in afterEach/afterAll.',
      ...described.map((line) => `  handle: ${line}`),
      ...listeners.map((line) => `  process listener: ${line}`),
    ].join('\n'),
  );
});
