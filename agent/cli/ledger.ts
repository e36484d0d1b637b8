import { resolve } from 'node:path';
import type { Registry } from '../config/load.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { readLedgerFile } from '../ledger/file-store.ts';
import { anchorOf, readEntry, verifyChain } from '../ledger/verify.ts';
import type { StoredChain } from '../ledger/verify.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import { createRedisLedgerStore } from '../queue/outbound-ledger.ts';
import { openRedis } from '../daemon/operations.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { openSession } from './session.ts';

const USAGE =
  'perimeter ledger verify [--file PATH] | perimeter ledger show [--run ID] [--since TIME] [--json]';

/**
 * `perimeter ledger verify|show`: checks the outbound ledger's hash chain (Redis, or a ledger
 * file with --file) and prints its head, or lists its entries.
 */
export async function ledgerCommand(args: CliArgs, io: CliIo, registry: Registry): Promise<number> {
  const action = args.positionals[0];
  if (action !== 'verify' && action !== 'show') {
    throw new PerimeterError('JOB_INVALID', `ledger needs verify or show. Usage: ${USAGE}`);
  }
  const chain = await readChain(args, io, registry);
  return action === 'verify' ? printVerdict(chain, io) : printEntries(chain, args, io);
}

async function readChain(args: CliArgs, io: CliIo, registry: Registry): Promise<StoredChain> {
  if (args.file !== undefined) {
    const entries = await readLedgerFile(resolve(io.cwd, args.file));
    return { anchor: anchorOf(entries), entries };
  }
  const session = await openSession({ ...io }, registry, {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    output: { kind: 'none' },
    logLevel: 'warn',
  });
  try {
    const connections = await openRedis({
      ...session,
      resolver: session.runtime.resolver,
      signal: io.signal,
    });
    try {
      const store = createRedisLedgerStore({
        client: connections.open('ledger'),
        prefix: connections.prefix,
        retentionDays: session.config.ledger.retentionDays,
      });
      return await store.read();
    } finally {
      await connections.close();
    }
  } finally {
    await session.runtime.close();
  }
}

function printVerdict(chain: StoredChain, io: CliIo): number {
  const verdict = verifyChain(chain);
  if (!verdict.ok) {
    throw new PerimeterError(
      'LEDGER_BROKEN',
      `The outbound ledger does not verify: ${verdict.problem} (position ${verdict.position}).`,
      {
        context: {
          position: verdict.position,
          ...(verdict.seq === undefined ? {} : { seq: verdict.seq }),
        },
      },
    );
  }
  io.stdout(
    `ledger ok: ${verdict.entries} entries after anchor ${chain.anchor.seq}; head ${verdict.head.seq}:${verdict.head.hash}\n`,
  );
  return 0;
}

function printEntries(chain: StoredChain, args: CliArgs, io: CliIo): number {
  const since = args.since === undefined ? undefined : parseSince(args.since);
  const entries = chain.entries
    .map((text) => readEntry(text))
    .filter((entry): entry is LedgerEntry => entry !== undefined)
    .filter((entry) => args.run === undefined || entry.runId === args.run)
    .filter((entry) => since === undefined || Date.parse(entry.time) >= since);
  for (const entry of entries) {
    io.stdout(args.json ? `${JSON.stringify(entry)}\n` : `${describeEntry(entry)}\n`);
  }
  return 0;
}

function describeEntry(entry: LedgerEntry): string {
  return [
    entry.seq,
    entry.time,
    entry.kind,
    entry.runId ?? '-',
    entry.status ?? '-',
    `${entry.method} ${entry.host}${entry.path}`,
    `${entry.bytes}B`,
    entry.assets === undefined ? '-' : `${entry.assets} assets`,
    `sha256=${entry.sha256}`,
  ].join('  ');
}

function parseSince(text: string): number {
  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new PerimeterError(
      'JOB_INVALID',
      `--since must be an ISO 8601 time such as 2026-01-31T00:00:00Z. Usage: ${USAGE}`,
    );
  }
  return time;
}
