import { appendFile, readFile } from 'node:fs/promises';
import { PerimeterError } from '../plugin-api/index.ts';
import { EMPTY_HEAD, sealEntry, serializeEntry } from './entry.ts';
import type { ChainHead, LedgerDraft, LedgerEntry } from './entry.ts';
import type { LedgerStore } from './ledger.ts';
import { readEntry } from './verify.ts';

/**
 * Mirrors every entry a store appends to a file, one JSON line each, for a log shipper. The
 * store stays the chain of record; the file holds this process's entries in append order.
 */
export function mirrorToFile(store: LedgerStore, file: string): LedgerStore {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    head: () => store.head(),
    async append(draft) {
      const entry = await store.append(draft);
      // Lines are written in the order the store sealed them within this process.
      const written = tail.then(() => appendFile(file, `${serializeEntry(entry)}\n`));
      tail = written.catch(() => undefined);
      await written;
      return entry;
    },
  };
}

/**
 * A chain kept in a file alone (no Redis: `perimeter run`). The head is read from the file's
 * last line when the store is first used; one process appends at a time.
 */
export function createFileLedgerStore(file: string): LedgerStore {
  let head: Promise<ChainHead> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  const currentHead = (): Promise<ChainHead> => (head ??= readHead(file));
  return {
    head: currentHead,
    append(draft: LedgerDraft): Promise<LedgerEntry> {
      const appended = tail.then(async () => {
        const entry = sealEntry(draft, await currentHead());
        await appendFile(file, `${serializeEntry(entry)}\n`);
        head = Promise.resolve({ seq: entry.seq, hash: entry.hash });
        return entry;
      });
      tail = appended.catch(() => undefined);
      return appended;
    },
  };
}

/** Reads a ledger file's lines (empty when it does not exist). */
export async function readLedgerFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return [];
    }
    throw error;
  }
  return text.split('\n').filter((line) => line.trim() !== '');
}

async function readHead(file: string): Promise<ChainHead> {
  const lines = await readLedgerFile(file);
  const last = lines.at(-1);
  if (last === undefined) {
    return EMPTY_HEAD;
  }
  const entry = readEntry(last);
  if (entry === undefined) {
    throw new PerimeterError(
      'LEDGER_BROKEN',
      `The last line of the ledger file ${file} is not a ledger entry; nothing is appended after it.`,
      { context: { file } },
    );
  }
  return { seq: entry.seq, hash: entry.hash };
}
