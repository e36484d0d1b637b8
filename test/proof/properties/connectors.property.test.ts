import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createHttpResponse } from '../../../agent/http/response.ts';
import { splitLines } from '../../../agent/http/lines.ts';
import type { JsonValue } from '../../../agent/plugin-api/index.ts';
import * as anaplanCursor from '../../../connectors/anaplan/cursor.ts';
import * as anaplan from '../../../connectors/anaplan/records.ts';
import * as cyeraCursor from '../../../connectors/cyera/cursor.ts';
import * as cyera from '../../../connectors/cyera/records.ts';
import { parseTable } from '../../../connectors/cyera/stream.ts';
import { readTableLine } from '../../../connectors/cyera/table-line.ts';
import * as cyralGovernance from '../../../connectors/cyral/records-governance.ts';
import * as cyral from '../../../connectors/cyral/records.ts';
import {
  depth,
  garbageText,
  jsonValue,
  params,
  parsesOrCoded,
  parsesOrCodedAsync,
} from './harness.ts';

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as never;

/** Every response schema a connector reads, by connector and name. */
const schemas: [string, z.ZodType][] = [
  ...[
    ['cyera', cyera],
    ['cyral', cyral],
    ['cyral', cyralGovernance],
    ['anaplan', anaplan],
  ].flatMap(([connector, module]) =>
    Object.entries(module as Record<string, unknown>)
      .filter(
        ([name, value]) =>
          name.endsWith('Schema') &&
          typeof value === 'object' &&
          value !== null &&
          'safeParse' in value,
      )
      .map(([name, value]): [string, z.ZodType] => [
        `${connector as string}.${name}`,
        value as z.ZodType,
      ]),
  ),
  ['cyera.pageSchema(Datastore)', cyera.pageSchema(cyera.DatastoreSchema)],
  ['cyera.pageSchema(Issue)', cyera.pageSchema(cyera.IssueSchema)],
  ['anaplan.pageSchema(models, Model)', anaplan.pageSchema('models', anaplan.ModelSchema)],
  [
    'anaplan.pageSchema(workspaces, Workspace)',
    anaplan.pageSchema('workspaces', anaplan.WorkspaceSchema),
  ],
];

const fixture = (connector: string, name: string): unknown =>
  JSON.parse(
    readFileSync(
      new URL(`../../../connectors/${connector}/__fixtures__/${name}`, import.meta.url),
      'utf8',
    ),
  );

/** Real answers (the connectors' fixtures), to mutate. */
const samples: unknown[] = [
  ...['datastore.json', 'identities.page-1.json', 'issues.page-1.json', 'table-line.json'].map(
    (n) => fixture('cyera', n),
  ),
  ...[
    'datamap.json',
    'logging-integrations.json',
    'policy-legacy.json',
    'sidecars.json',
    'token.json',
    'user-accounts.json',
  ].map((n) => fixture('cyral', n)),
  ...['line-item.json', 'list-metadata.json', 'models.page-1.json', 'modules.empty.json'].map((n) =>
    fixture('anaplan', n),
  ),
];

/** Every key path of a value, up to a bound. */
function paths(
  value: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  if (out.length > 200 || typeof value !== 'object' || value === null) {
    return out;
  }
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    out.push(path);
    paths(child, path, out);
  }
  return out;
}

function replaced(
  value: unknown,
  path: readonly (string | number)[],
  replacement: unknown,
): unknown {
  if (path.length === 0) {
    return replacement;
  }
  const [head, ...rest] = path;
  const copy = (
    Array.isArray(value) ? [...(value as unknown[])] : { ...(value as object) }
  ) as Record<string | number, unknown>;
  copy[head as string] = replaced(copy[head as string], rest, replacement);
  return copy;
}

/** A real answer with up to three members replaced by anything. */
const mutatedAnswer = fc
  .tuple(fc.constantFrom(...samples), fc.array(fc.tuple(fc.nat(), jsonValue), { maxLength: 3 }))
  .map(([sample, changes]) =>
    changes.reduce<unknown>((value, [pick, replacement]) => {
      const all = paths(value);
      const path = all[pick % Math.max(all.length, 1)];
      return path === undefined ? value : replaced(value, path, replacement);
    }, sample),
  );

/** A body as the source sends it: JSON text, cut short or spliced with garbage, or garbage. */
const body = fc.oneof(
  mutatedAnswer.map((value) => JSON.stringify(value)),
  fc.tuple(mutatedAnswer, fc.nat(), garbageText).map(([value, at, junk]) => {
    const text = JSON.stringify(value);
    const cut = at % (text.length + 1);
    return `${text.slice(0, cut)}${junk}${text.slice(cut + junk.length)}`;
  }),
  garbageText,
);

/** Splits bytes into chunks at the given cut points. */
function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) {
      chunks.push(bytes.subarray(from, point));
      from = point;
    }
  }
  return chunks;
}

function response(bytes: Buffer, cuts: readonly number[]) {
  const stream = Object.assign(Readable.from(chunked(bytes, cuts)), {
    dump: () => Promise.resolve(undefined),
  });
  return createHttpResponse({
    status: 200,
    headers: {},
    body: stream,
    context: { domain: 'source', endpoint: 'GET /v1/things', host: 'source.example', attempt: 1 },
    signal: new AbortController().signal,
    maxResponseBytes: 1 << 20,
    maxLineBytes: 1 << 16,
  });
}

describe('connector response parsers, over generated answers', () => {
  it.each(schemas)(
    '%s: a value or SOURCE_RESPONSE_INVALID, for any body in any chunking',
    async (name, schema) => {
      await fc.assert(
        fc.asyncProperty(body, fc.array(fc.nat(), { maxLength: 4 }), async (text, cuts) => {
          await parsesOrCodedAsync(`connector JSON: ${name}`, ['SOURCE_RESPONSE_INVALID'], () =>
            response(Buffer.from(text), cuts).json(schema),
          );
        }),
        params(),
      );
    },
  );

  it('answers deep nesting in any schema with a value or SOURCE_RESPONSE_INVALID', async () => {
    await fc.assert(
      fc.asyncProperty(depth, fc.nat({ max: schemas.length - 1 }), async (levels, pick) => {
        const [name, schema] = schemas[pick % schemas.length] ?? ['none', undefined as never];
        const text = `{"results":${'[{"a":'.repeat(levels)}1${'}]'.repeat(levels)},"meta":${'{"b":'.repeat(levels)}1${'}'.repeat(levels)}}`;
        await parsesOrCodedAsync(
          `connector JSON: deep nesting (${name})`,
          ['SOURCE_RESPONSE_INVALID', 'SOURCE_RESPONSE_TOO_LARGE'],
          () => response(Buffer.from(text), []).json(schema),
        );
      }),
      params(),
    );
  });
});

describe('Cyera NDJSON lines and pages, over generated streams', () => {
  const tableSample = fixture('cyera', 'table-line.json');
  const tableValue = fc.oneof(
    fc.constant(tableSample),
    fc.tuple(fc.nat(), jsonValue).map(([pick, replacement]) => {
      const all = paths(tableSample);
      const path = all[pick % all.length];
      return path === undefined ? tableSample : replaced(tableSample, path, replacement);
    }),
    jsonValue,
  );

  it('splits any byte stream, in any chunking, into the lines of the whole', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            tableValue.map((value) => JSON.stringify(value)),
            garbageText.map((text) => text.replace(/\n/g, '')),
          ),
          { maxLength: 8 },
        ),
        fc.constantFrom('\n', '\r\n'),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (lines, newline, cuts) => {
          const bytes = Buffer.from(lines.join(newline));
          const seen = await parsesOrCodedAsync(
            'cyera NDJSON: split lines',
            ['SOURCE_RESPONSE_TOO_LARGE'],
            async () => {
              const out: string[] = [];
              for await (const { line } of splitLines(
                Readable.from(chunked(bytes, cuts)),
                1 << 16,
                () => new Error('too long'),
              )) {
                out.push(line);
              }
              return out;
            },
          );
          if ('value' in seen) {
            // The lines of the whole text: split on LF, a CR before it dropped, no line after a
            // final LF, the byte-order mark dropped from the first.
            const pieces = bytes.toString('utf8').split('\n');
            if (pieces.at(-1) === '') {
              pieces.pop();
            }
            const expected = pieces.map((line, index) =>
              (index === 0 ? line.replace(/^\uFEFF/, '') : line).replace(/\r$/, ''),
            );
            expect(seen.value).toEqual(expected);
          }
        },
      ),
      params(),
    );
  });

  it('parses a table line to a table or SOURCE_RESPONSE_INVALID; the compiled check agrees with the schema', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          tableValue.map((value) => JSON.stringify(value)),
          garbageText,
        ),
        (line) => {
          const outcome = parsesOrCoded(
            'cyera NDJSON: table line',
            ['SOURCE_RESPONSE_INVALID'],
            () => parseTable(line, 1, 'ds-1'),
          );
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            expect('error' in outcome).toBe(true);
            return;
          }
          const compiled = readTableLine(value);
          const schema = cyera.TableLineSchema.safeParse(value);
          expect(compiled !== undefined).toBe(schema.success);
          if (compiled !== undefined && schema.success) {
            expect(compiled).toEqual(schema.data);
          }
        },
      ),
      params(),
    );
  });
});

describe('checkpoint cursors, over generated input', () => {
  it('Cyera: round-trips, and any JSON reads as a cursor (unknown shapes start over)', () => {
    const uid = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(
        fc.uniqueArray(uid, { maxLength: 5 }),
        fc.option(
          fc.record({ datastoreUid: uid, records: fc.integer({ min: 1, max: 1e6 }), lastKey: uid }),
          { nil: undefined },
        ),
        jsonValue,
        (finished, current, any) => {
          const json = cyeraCursor.cursorJson(new Set(finished), current);
          const back = cyeraCursor.parseCursor(json, silent);
          expect(cyeraCursor.cursorJson(new Set(back.finishedDatastoreUids), back.current)).toEqual(
            json,
          );
          parsesOrCoded('cyera cursor: any JSON', [], () =>
            cyeraCursor.parseCursor(any as JsonValue, silent),
          );
        },
      ),
      params(),
    );
  });

  it('Anaplan: round-trips, and any JSON reads as a cursor (unknown shapes start over)', () => {
    const id = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(
        fc.uniqueArray(id, { maxLength: 5 }),
        fc.uniqueArray(id, { maxLength: 5 }),
        jsonValue,
        (workspaceIds, modelIds, any) => {
          const cursor = { workspaceIds: new Set(workspaceIds), modelIds: new Set(modelIds) };
          const back = anaplanCursor.parseCursor(anaplanCursor.cursorJson(cursor), silent);
          expect(back).toEqual(cursor);
          parsesOrCoded('anaplan cursor: any JSON', [], () =>
            anaplanCursor.parseCursor(any as JsonValue, silent),
          );
        },
      ),
      params(),
    );
  });
});
