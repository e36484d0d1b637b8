import { describe, expect, it } from 'vitest';
import { splitLines } from './lines.ts';

async function* chunksOf(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    await Promise.resolve();
    yield typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
  }
}

async function collect(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes = 1024,
): Promise<{ line: string; lineNumber: number }[]> {
  const lines = [];
  for await (const line of splitLines(
    chunks,
    maxLineBytes,
    (n) => new Error(`line ${n} too long`),
  )) {
    lines.push(line);
  }
  return lines;
}

describe('splitLines', () => {
  it('splits on LF, strips the CR of CRLF and yields blank lines with their numbers', async () => {
    const lines = await collect(chunksOf('a\r\n\r\nb\n\nc\n'));
    expect(lines).toEqual([
      { line: 'a', lineNumber: 1 },
      { line: '', lineNumber: 2 },
      { line: 'b', lineNumber: 3 },
      { line: '', lineNumber: 4 },
      { line: 'c', lineNumber: 5 },
    ]);
  });

  it('yields a final line that has no newline', async () => {
    const lines = await collect(chunksOf('first\nlast'));
    expect(lines.map((l) => l.line)).toEqual(['first', 'last']);
  });

  it('joins a line cut across several chunks, CR and LF in different chunks', async () => {
    const lines = await collect(chunksOf('{"na', 'me":', '"x"}\r', '\n{"n":2}'));
    expect(lines.map((l) => l.line)).toEqual(['{"name":"x"}', '{"n":2}']);
  });

  it('decodes multi-byte characters split between chunks', async () => {
    const text = 'café ✓ 𝄞 日本\n';
    const bytes = Buffer.from(text, 'utf8');
    // Cut inside the 2-byte é, the 3-byte ✓ and the 4-byte 𝄞: one byte per chunk.
    const parts = [...bytes].map((byte) => Buffer.from([byte]));
    const lines = await collect(chunksOf(...parts));
    expect(lines).toEqual([{ line: 'café ✓ 𝄞 日本', lineNumber: 1 }]);
  });

  it('drops a byte-order mark at the start of the stream only', async () => {
    const lines = await collect(chunksOf('\uFEFFa\n\uFEFFb\n'));
    expect(lines.map((l) => l.line)).toEqual(['a', '\uFEFFb']);
  });

  it('yields nothing for an empty body', async () => {
    expect(await collect(chunksOf())).toEqual([]);
  });

  it('throws with the line number when a line exceeds the cap, even before its newline', async () => {
    await expect(collect(chunksOf('ok\n', '0123456789'), 8)).rejects.toThrow('line 2 too long');
    await expect(collect(chunksOf('ok\n0123456789\n'), 8)).rejects.toThrow('line 2 too long');
    await expect(collect(chunksOf('ok\n', '0123', '45678\n'), 8)).rejects.toThrow(
      'line 2 too long',
    );
  });

  it('accepts a line of exactly the cap', async () => {
    const lines = await collect(chunksOf('12345678\n'), 8);
    expect(lines.map((l) => l.line)).toEqual(['12345678']);
  });
});
