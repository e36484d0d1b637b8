import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../test/helpers/wait-for.ts';
import { isPerimeterError } from '../plugin-api/index.ts';
import type { BodyLine, HttpResponse } from '../plugin-api/index.ts';
import {
  fastSettings,
  rejectionOf,
  sendJson,
  closedAfterEach,
} from '../../test/helpers/loopback.ts';
import type { Handler, Loopback, TestClient } from '../../test/helpers/loopback.ts';

const { server, client } = closedAfterEach();

async function get(
  handler: Handler,
  settings = fastSettings(),
  signal: AbortSignal = AbortSignal.timeout(10_000),
): Promise<{ response: HttpResponse; target: Loopback; built: TestClient }> {
  const target = await server(handler);
  const built = client({ allowedHosts: [target.hostPattern] }, { settings });
  const response = await built.client.request({
    method: 'GET',
    url: `${target.origin}/v1/items`,
    signal,
  });
  return { response, target, built };
}

/** Writes the byte pieces with a pause between them, so that they arrive as separate chunks. */
function writeSlowly(response: ServerResponse, pieces: Buffer[], pauseMs = 15): void {
  response.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const next = (index: number): void => {
    const piece = pieces[index];
    if (piece === undefined) {
      response.end();
      return;
    }
    response.write(piece);
    setTimeout(() => {
      next(index + 1);
    }, pauseMs);
  };
  next(0);
}

async function collect(lines: AsyncIterable<BodyLine>): Promise<BodyLine[]> {
  const all: BodyLine[] = [];
  for await (const line of lines) {
    all.push(line);
  }
  return all;
}

describe('json()', () => {
  const Items = z.object({ items: z.array(z.object({ uid: z.string(), size: z.number() })) });

  it('parses and validates a body', async () => {
    const { response } = await get((_request, res) => {
      sendJson(res, 200, { items: [{ uid: 'a', size: 1 }] });
    });
    expect(await response.json(Items)).toEqual({ items: [{ uid: 'a', size: 1 }] });
  });

  it('names the failing paths and the endpoint, never the values', async () => {
    const { response } = await get((_request, res) => {
      sendJson(res, 200, {
        items: [
          { uid: 'a', size: 1 },
          { uid: 42, size: 'distinctive-value-91c' },
        ],
      });
    });
    const error = await rejectionOf(response.json(Items));
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_INVALID')).toBe(true);
    expect(error.message).toContain('GET /v1/items');
    expect(error.message).toContain('items[1].uid');
    expect(error.message).toContain('items[1].size');
    expect(error.message + JSON.stringify(error['context'])).not.toContain('distinctive-value-91c');
    expect(error.cause).toBeUndefined();
  });

  it('reports a body that is not JSON without quoting it', async () => {
    const { response } = await get((_request, res) => {
      res.writeHead(200).end('<html>distinctive-page-77</html>');
    });
    const error = await rejectionOf(response.json(Items));
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_INVALID')).toBe(true);
    expect(error.message).toContain('not valid JSON');
    expect(error.message + String(error.cause)).not.toContain('distinctive-page-77');
  });

  it('refuses a body above maxResponseBytes announced by Content-Length', async () => {
    const { response } = await get(
      (_request, res) => {
        sendJson(res, 200, { data: 'x'.repeat(2_000) });
      },
      fastSettings({ maxResponseBytes: 1_000 }),
    );
    const error = await rejectionOf(response.json(z.unknown()));
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_TOO_LARGE')).toBe(true);
    expect(error.message).toContain('http.maxResponseBytes');
  });

  it('refuses a chunked body once it grows past maxResponseBytes', async () => {
    const { response } = await get(
      (_request, res) => {
        writeSlowly(res, [Buffer.from('['), Buffer.from('1,'.repeat(600)), Buffer.from('1]')], 5);
      },
      fastSettings({ maxResponseBytes: 1_000 }),
    );
    const error = await rejectionOf(response.text());
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_TOO_LARGE')).toBe(true);
  });

  it('refuses a second read of the same body', async () => {
    const { response } = await get((_request, res) => {
      sendJson(res, 200, {});
    });
    await response.text();
    const error = await rejectionOf(response.text());
    expect(isPerimeterError(error, 'INTERNAL')).toBe(true);
  });
});

describe('lines()', () => {
  it('streams CRLF and LF lines, blank lines, split characters and a final unterminated line', async () => {
    const body = Buffer.from('{"a":"café"}\r\n\n{"b":"✓𝄞"}\n{"c":1}', 'utf8');
    // Cut inside é and inside 𝄞, and between CR and LF.
    const cuts = [10, 13, 22, 25, body.length];
    const pieces = cuts.map((end, index) => body.subarray(cuts[index - 1] ?? 0, end));
    const { response } = await get((_request, res) => {
      writeSlowly(res, pieces);
    });
    expect(await collect(response.lines())).toEqual([
      { line: '{"a":"café"}', lineNumber: 1 },
      { line: '', lineNumber: 2 },
      { line: '{"b":"✓𝄞"}', lineNumber: 3 },
      { line: '{"c":1}', lineNumber: 4 },
    ]);
  });

  it('fails with SOURCE_RESPONSE_TOO_LARGE and the line number when a line exceeds maxLineBytes', async () => {
    const { response } = await get(
      (_request, res) => {
        writeSlowly(res, [Buffer.from('short\n'), Buffer.from('y'.repeat(300))]);
      },
      fastSettings({ maxLineBytes: 100 }),
    );
    const error = await rejectionOf(collect(response.lines()));
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_TOO_LARGE')).toBe(true);
    expect(error['context']).toMatchObject({ lineNumber: 2, limitBytes: 100 });
  });

  it('ends promptly when the signal aborts while the server stalls', async () => {
    const controller = new AbortController();
    const { response } = await get(
      (_request, res) => {
        res.writeHead(200).write('first\n');
      },
      fastSettings(),
      controller.signal,
    );
    const seen: string[] = [];
    const consuming = rejectionOf(
      (async () => {
        for await (const { line } of response.lines()) {
          seen.push(line);
          setTimeout(() => {
            controller.abort();
          }, 20);
        }
      })(),
    );
    const error = await consuming;
    expect(seen).toEqual(['first']);
    expect(isPerimeterError(error, 'RUN_ABORTED')).toBe(true);
  });

  it('destroys the body when the consumer stops early', async () => {
    let closed = false;
    const { response } = await get((request, res) => {
      request.socket.on('close', () => {
        closed = true;
      });
      res.writeHead(200).write('one\ntwo\n');
    });
    for await (const { line } of response.lines()) {
      expect(line).toBe('one');
      break;
    }
    expect(await waitFor(() => closed, { timeoutMs: 2_000, what: 'the socket to close' })).toBe(
      true,
    );
  });
});

describe('dump()', () => {
  it('gives up on a body the server never finishes, so that close() is prompt', async () => {
    const { response, built } = await get((_request, res) => {
      res.writeHead(200).write('{"never":');
    });
    const started = performance.now();
    await response.dump();
    await built.client.close();
    expect(performance.now() - started).toBeLessThan(1_800);
  });
});
