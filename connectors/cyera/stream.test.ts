import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import { startCyeraHarness } from '../../test/fakes/cyera/harness.ts';
import type { CyeraHarness } from '../../test/fakes/cyera/harness.ts';
import type { CyeraSimulatorOptions } from '../../test/fakes/cyera/simulator.ts';
import { MALFORMED_MARKER } from '../../test/fakes/cyera/vocabulary.ts';
import { CyeraClient } from './client.ts';
import { parseTable, streamTables } from './stream.ts';
import type { StreamedTable } from './stream.ts';

let harness: CyeraHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Tables of datastore 0, with the stream options a run would use. */
async function setUp(
  options: CyeraSimulatorOptions = {},
  overrides: { signal?: AbortSignal; maxRetries?: number } = {},
): Promise<{ tables: AsyncGenerator<StreamedTable>; harness: CyeraHarness; expected: string[] }> {
  harness = await startCyeraHarness({ size: { datastores: 1, tablesPerSchema: 10 }, ...options });
  const ctx = harness.context({ signal: overrides.signal });
  const client = new CyeraClient(ctx);
  const datastoreUid = harness.simulator.tenant.datastoreUid(0);
  const tables = streamTables({
    datastoreUid,
    open: () => client.openTableStream(datastoreUid),
    retry: { ...ctx.config.stream, maxRetries: overrides.maxRetries ?? 3 },
    signal: ctx.signal,
    logger: ctx.logger,
  });
  const { tenant } = harness.simulator;
  const expected = Array.from({ length: tenant.tablesPerDatastore }, (_, t) =>
    String(tenant.table(0, t)['tableName']),
  );
  return { tables, harness, expected };
}

async function names(tables: AsyncIterable<StreamedTable>): Promise<string[]> {
  const seen: string[] = [];
  for await (const { table } of tables) {
    seen.push(table.tableName);
  }
  return seen;
}

describe('parseTable', () => {
  it('names the endpoint and line number of a line that is not JSON, never its content', () => {
    const error = captureError(() => parseTable(`{"tableName":"${MALFORMED_MARKER}"`, 7, 'ds-1'));
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_INVALID')).toBe(true);
    expect(error.message).toBe('GET /v1/tables/stream line 7 is not JSON, for datastore ds-1');
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify(error.context)).not.toContain(MALFORMED_MARKER);
  });

  it('names the failing paths of a line of the wrong shape, never the values', () => {
    const line = JSON.stringify({ databaseName: 'DB', schemaName: MALFORMED_MARKER, tableName: 5 });
    const error = captureError(() => parseTable(line, 3, 'ds-1'));
    expect(error.message).toContain('line 3 does not match the table shape (at tableName)');
    expect(error.context['lineNumber']).toBe(3);
    expect(error.message + JSON.stringify(error.context)).not.toContain(MALFORMED_MARKER);
  });
});

describe('streamTables', () => {
  it('parses lines split across chunks mid-character, with CRLF and blank lines', async () => {
    const layout = { lineEnding: '\r\n', blankLineEvery: 3, chunkBytes: 7 };
    const { tables, expected } = await setUp({ layout });
    const seen = await names(tables);
    expect(seen).toEqual(expected);
    expect(seen.some((name) => name.includes('Ü'))).toBe(true);
    expect(seen.some((name) => name.includes('🙂'))).toBe(true);
  });

  it('re-opens a dropped stream and yields every table exactly once', async () => {
    const { tables, harness: h, expected } = await setUp();
    h.simulator.dropConnection(7);
    expect(await names(tables)).toEqual(expected);
    expect(h.simulator.stats()).toMatchObject({ streamsOpened: 2, streamsBroken: 1 });
    const warning = h.logs
      .records()
      .find((r) => r['msg'] === 'Cyera table stream interrupted; re-opening it');
    expect(warning).toMatchObject({ code: 'SOURCE_UNAVAILABLE', records: 7, attempt: 1 });
  });

  it('survives a token expiry that ends the stream early: re-login, resume, no duplicate', async () => {
    const { tables, harness: h, expected } = await setUp();
    h.simulator.expireTokensMidStream(12);
    expect(await names(tables)).toEqual(expected);
    expect(h.simulator.stats()).toMatchObject({ logins: 2, unauthorized: 1, streamsOpened: 2 });
  });

  it('re-opens through 429s, beyond the HTTP client own retries', async () => {
    const { tables, harness: h, expected } = await setUp();
    h.simulator.dropConnection(4);
    const seen: string[] = [];
    for await (const { table } of tables) {
      seen.push(table.tableName);
      if (seen.length === 2) {
        // The HTTP client tries 3 times; the 4th 429 meets the stream's own retry.
        h.simulator.rateLimit(0, 4);
      }
    }
    expect(seen).toEqual(expected);
    expect(h.simulator.stats()).toMatchObject({ rateLimited: 4, streamsOpened: 2 });
  });

  it('gives up after maxRetries interruptions without progress', async () => {
    const { tables, harness: h } = await setUp({}, { maxRetries: 2 });
    h.simulator.dropConnection(3, Number.POSITIVE_INFINITY);
    const error = await names(tables).catch((e: unknown) => e);
    expect(isPerimeterError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    // The first opening, then one re-opening per interruption up to maxRetries.
    expect(h.simulator.stats().streamsOpened).toBe(3);
  });

  it('fails on a malformed line with the endpoint and line number only', async () => {
    const { tables, harness: h } = await setUp();
    h.simulator.malformedLine(5);
    const error = (await names(tables).catch((e: unknown) => e)) as Error;
    expect(isPerimeterError(error, 'SOURCE_RESPONSE_INVALID')).toBe(true);
    expect(error.message).toContain('GET /v1/tables/stream line 5 is not JSON');
    expect(h.simulator.stats().streamsOpened).toBe(1);
    expect(error.message + h.logs.text()).not.toContain(MALFORMED_MARKER);
  });

  it('stops promptly when the signal aborts during a slow stream', async () => {
    const controller = new AbortController();
    const { tables, harness: h } = await setUp({}, { signal: controller.signal });
    h.simulator.slowDown(200);
    const started = Date.now();
    setTimeout(() => {
      controller.abort();
    }, 100);
    const error = await names(tables).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

function captureError(action: () => unknown): Error & { context: Record<string, unknown> } {
  try {
    action();
  } catch (error) {
    return error as Error & { context: Record<string, unknown> };
  }
  throw new Error('expected an error');
}
