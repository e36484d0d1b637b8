import type { BodyLine } from '../plugin-api/index.ts';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines on LF, removing a CR before it. Splitting happens on bytes and
 * each line is decoded whole: LF never occurs inside a multi-byte UTF-8 sequence, so a character
 * cut between two chunks is decoded correctly. Blank lines are yielded; a last line without LF
 * too. A line longer than `maxLineBytes` throws `tooLong(lineNumber)` before it is buffered whole.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
  tooLong: (lineNumber: number) => Error,
): AsyncGenerator<BodyLine, void, undefined> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNumber = 0;
  for await (const raw of chunks) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
    let start = 0;
    for (let end = chunk.indexOf(LF, start); end !== -1; end = chunk.indexOf(LF, start)) {
      lineNumber += 1;
      if (pendingBytes + end - start > maxLineBytes) {
        throw tooLong(lineNumber);
      }
      pending.push(chunk.subarray(start, end));
      yield { line: decodeLine(pending, lineNumber), lineNumber };
      pending = [];
      pendingBytes = 0;
      start = end + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) {
        throw tooLong(lineNumber + 1);
      }
      pending.push(chunk.subarray(start));
    }
  }
  if (pendingBytes > 0) {
    yield { line: decodeLine(pending, lineNumber + 1), lineNumber: lineNumber + 1 };
  }
}

function decodeLine(pieces: readonly Buffer[], lineNumber: number): string {
  let bytes = pieces.length === 1 ? (pieces[0] ?? Buffer.alloc(0)) : Buffer.concat(pieces);
  if (bytes.at(-1) === CR) {
    bytes = bytes.subarray(0, -1);
  }
  const line = bytes.toString('utf8');
  // A byte-order mark opens the stream, not the first record.
  return lineNumber === 1 && line.startsWith('\uFEFF') ? line.slice(1) : line;
}
