import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './jcs.ts';

/** The hash a chain starts from: there is no entry before the first one. */
export const GENESIS_HASH = '0'.repeat(64);

/** What kind of outbound request an entry records. */
export const OUTBOUND_KINDS = [
  'catalog.batch',
  'catalog.complete',
  'controlPlane.events',
  'controlPlane.ack',
  'controlPlane.heartbeat',
] as const;
export type OutboundKind = (typeof OUTBOUND_KINDS)[number];

/** Where a chain stands: the sequence number and hash of its last entry (0 and genesis when empty). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The empty chain. */
export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

/** One recorded request, as stored (one JSON object per entry). */
export const LedgerEntrySchema = z.strictObject({
  seq: z.number().int().positive(),
  time: z.string(),
  kind: z.enum(OUTBOUND_KINDS),
  runId: z.string().optional(),
  method: z.string(),
  host: z.string(),
  path: z.string(),
  /** The response status; absent when no response came (network failure). */
  status: z.number().int().optional(),
  bytes: z.number().int().nonnegative(),
  sha256: Sha256Schema,
  assets: z.number().int().nonnegative().optional(),
  /** The secret references (never values) the run was given. */
  secretRefs: z.array(z.string()).optional(),
  prevHash: Sha256Schema,
  hash: Sha256Schema,
});
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

/** An entry before it takes its place in the chain. */
export type LedgerDraft = Omit<LedgerEntry, 'seq' | 'prevHash' | 'hash'>;

/** Hex sha256 of bytes or of a string's UTF-8 encoding. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash of an entry: sha256 of the previous hash followed by the entry's JCS form, `hash` left out. */
export function entryHash(entry: Omit<LedgerEntry, 'hash'>): string {
  const { prevHash } = entry;
  return sha256Hex(prevHash + canonicalJson(entry));
}

/** Places a draft after `head`: the next sequence number, linked to the head's hash. */
export function sealEntry(draft: LedgerDraft, head: ChainHead): LedgerEntry {
  const unsealed = { ...stripUndefined(draft), seq: head.seq + 1, prevHash: head.hash };
  return { ...unsealed, hash: entryHash(unsealed) };
}

/** The stored form of an entry: its JCS text, so that what is hashed is what is kept. */
export function serializeEntry(entry: LedgerEntry): string {
  return canonicalJson(entry);
}

/** `seq:hash`, the head as one string (Redis keys, heartbeats, `/status`). */
export function formatHead(head: ChainHead): string {
  return `${head.seq}:${head.hash}`;
}

/** Reads `seq:hash`; undefined when the text is not a head. */
export function parseHead(text: string): ChainHead | undefined {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text);
  return match === null ? undefined : { seq: Number(match[1]), hash: match[2] ?? GENESIS_HASH };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
