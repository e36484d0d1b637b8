import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { PerimeterError, runAtMost } from '../plugin-api/index.ts';
import type { BodyLine, HttpResponse } from '../plugin-api/index.ts';
import { abortedError, tooLargeError, transportError } from './error-map.ts';
import type { FailureContext } from './error-map.ts';
import { splitLines } from './lines.ts';

/** What a response needs to read its body and to word its errors. */
export interface ResponseOptions {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The undici body stream (a Readable with `dump()`). */
  readonly body: Readable & {
    dump(options?: { limit?: number; signal?: AbortSignal }): Promise<unknown>;
  };
  readonly context: FailureContext;
  readonly signal: AbortSignal;
  readonly maxResponseBytes: number;
  readonly maxLineBytes: number;
}

const MAX_REPORTED_PATHS = 10;

/** A discarded body is read this far to keep the connection, then the connection is dropped. */
const DISCARD_LIMIT_BYTES = 64 * 1024;
/** A server that stalls mid-body must not hold a discard for the whole body timeout. */
const DISCARD_TIMEOUT_MS = 1_000;

/**
 * Discards a body: reads a little so the socket can be reused, never waits long, never throws.
 * The bound is a timer cleared once the body is read (runAtMost), not `AbortSignal.timeout`: that
 * one cannot be cleared, and every discard (each ack and event post) would leave a timer behind
 * that later builds a DOMException for nobody.
 */
export async function discardBody(
  body: ResponseOptions['body'],
  signal: AbortSignal,
): Promise<void> {
  await runAtMost(
    (bounded) => body.dump({ limit: DISCARD_LIMIT_BYTES, signal: bounded }),
    DISCARD_TIMEOUT_MS,
    { signal },
  ).catch(() => undefined);
}

/** Wraps an accepted undici response: capped reads, schema validation, streamed lines. */
export function createHttpResponse(options: ResponseOptions): HttpResponse {
  const { status, headers, body, context } = options;
  let claimed = false;
  const claim = (): void => {
    if (claimed) {
      throw new PerimeterError('INTERNAL', `The body of ${context.endpoint} was read twice.`, {
        context: { endpoint: context.endpoint },
      });
    }
    claimed = true;
  };
  const text = async (): Promise<string> => {
    claim();
    return (await readCapped(options)).toString('utf8');
  };
  return {
    status,
    headers,
    text,
    json: async <T>(schema: z.ZodType<T>): Promise<T> => parseJson(await text(), schema, context),
    lines: (): AsyncIterable<BodyLine> => {
      claim();
      return streamLines(options);
    },
    dump: async (): Promise<void> => {
      claim();
      await discardBody(body, options.signal);
    },
  };
}

async function readCapped(options: ResponseOptions): Promise<Buffer> {
  const { body, context, maxResponseBytes } = options;
  const declared = Number(options.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxResponseBytes) {
    body.destroy();
    throw tooLargeError(context, { limitBytes: maxResponseBytes });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxResponseBytes) {
        throw tooLargeError(context, { limitBytes: maxResponseBytes });
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw bodyError(error, options);
  }
  return Buffer.concat(chunks, total);
}

async function* streamLines(options: ResponseOptions): AsyncGenerator<BodyLine, void, undefined> {
  const { body, context, maxLineBytes } = options;
  try {
    yield* splitLines(body as AsyncIterable<Buffer>, maxLineBytes, (lineNumber) =>
      tooLargeError(context, { limitBytes: maxLineBytes, lineNumber }),
    );
  } catch (error) {
    throw bodyError(error, options);
  } finally {
    // Ends the exchange when the consumer stops early (break, return(), a thrown error).
    body.destroy();
  }
}

/** A failure while a body streams in: our own errors pass, an abort wins, the rest is network. */
function bodyError(error: unknown, options: ResponseOptions): PerimeterError {
  if (error instanceof PerimeterError) {
    return error;
  }
  if (options.signal.aborted) {
    return abortedError(options.signal, error);
  }
  return transportError(error, options.context);
}

function parseJson<T>(text: string, schema: z.ZodType<T>, context: FailureContext): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The SyntaxError quotes the body, so it is neither kept as cause nor reported.
    throw invalidResponse(context, 'is not valid JSON', []);
  }
  const result = schema.safeParse(value);
  if (result.success) {
    return result.data;
  }
  const paths = result.error.issues
    .slice(0, MAX_REPORTED_PATHS)
    .map((issue) => `${formatPath(issue.path)} (${issue.code})`);
  throw invalidResponse(context, `does not match the expected shape at ${paths.join(', ')}`, paths);
}

function invalidResponse(
  context: FailureContext,
  problem: string,
  paths: readonly string[],
): PerimeterError {
  const { endpoint, host } = context;
  // Issue codes and paths only: zod messages of custom checks may quote the value.
  return new PerimeterError(
    'SOURCE_RESPONSE_INVALID',
    `The response of ${endpoint} (${host}) ${problem}.`,
    { context: { endpoint, host, paths } },
  );
}

/** `items[0].name`; the root is `(root)`. */
function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    text += typeof key === 'number' ? `[${key}]` : `${text === '' ? '' : '.'}${String(key)}`;
  }
  return text === '' ? '(root)' : text;
}
