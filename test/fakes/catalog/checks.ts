import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';

/** Most uncompressed bytes of one batch the receiver inflates (a gzip bomb stops here). */
const MAX_INFLATED_BYTES = 256 * 1024 * 1024;
const KEY_PATTERN = /^(.+):(0|[1-9]\d{0,14})$/;

/** A request the receiver refuses: the status and a JSON error it answers with. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** A validator of one asset record, compiled from the published docs/schemas/asset.schema.json. */
export function loadAssetValidator(): ValidateFunction {
  const url = new URL('../../../docs/schemas/asset.schema.json', import.meta.url);
  return new Ajv2020({ strict: true, allErrors: false }).compile(
    JSON.parse(readFileSync(url, 'utf8')) as object,
  );
}

/** Checks the bearer token when the receiver expects one. */
export function checkToken(headers: IncomingHttpHeaders, expected: string | undefined): void {
  if (expected !== undefined && headers.authorization !== `Bearer ${expected}`) {
    throw new HttpProblem(401, 'unauthorized', 'missing or wrong bearer token', {
      'www-authenticate': 'Bearer',
    });
  }
}

/** Checks the media type (parameters such as charset ignored). */
export function checkContentType(headers: IncomingHttpHeaders, expected: string): void {
  const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== expected) {
    throw new HttpProblem(415, 'unsupported_media_type', `Content-Type must be ${expected}`);
  }
}

/** Checks the batch headers and returns the parsed Idempotency-Key. */
export function checkBatchHeaders(
  headers: IncomingHttpHeaders,
  runId: string,
): { raw: string; runId: string; seq: number } {
  checkContentType(headers, 'application/x-ndjson');
  if (headers['content-encoding']?.trim().toLowerCase() !== 'gzip') {
    throw new HttpProblem(415, 'unsupported_encoding', 'Content-Encoding must be gzip');
  }
  const value = headers['idempotency-key'];
  // A repeated header arrives as a list: that is as wrong as a missing one.
  const raw = typeof value === 'string' ? value : undefined;
  const match = raw === undefined ? null : KEY_PATTERN.exec(raw);
  if (raw === undefined || match === null) {
    throw new HttpProblem(400, 'bad_idempotency_key', 'Idempotency-Key must be {runId}:{seq}');
  }
  if (match[1] !== runId) {
    throw new HttpProblem(400, 'bad_idempotency_key', 'Idempotency-Key names another run');
  }
  return { raw, runId, seq: Number(match[2]) };
}

/** Inflates and validates a batch body; returns the NDJSON and the assets' qualifiedNames. */
export function decodeBatch(
  body: Buffer,
  validateAsset: ValidateFunction,
): { ndjson: Buffer; qualifiedNames: string[] } {
  let ndjson: Buffer;
  try {
    ndjson = gunzipSync(body, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch {
    throw new HttpProblem(400, 'bad_gzip', 'the body is not valid gzip');
  }
  const text = ndjson.toString('utf8');
  if (!text.endsWith('\n')) {
    throw new HttpProblem(400, 'bad_ndjson', 'every NDJSON line must end with a newline');
  }
  const lines = text.slice(0, -1).split('\n');
  const qualifiedNames = lines.map((line, index) => {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new HttpProblem(400, 'bad_ndjson', `line ${index + 1} is not JSON`);
    }
    if (!validateAsset(record)) {
      const where = validateAsset.errors?.[0]?.instancePath ?? '';
      throw new HttpProblem(
        400,
        'invalid_asset',
        `line ${index + 1} fails the asset schema at ${where || '/'}`,
      );
    }
    return (record as { qualifiedName: string }).qualifiedName;
  });
  return { ndjson, qualifiedNames };
}

/** Parses the body of a `complete` call. */
/** The run-count keys a `complete` call may carry after an extract (RunCounts in the doc). */
const COUNT_KEYS = ['kinds', 'partial', 'skipped', 'reconciled', 'mismatches'] as const;

export function parseComplete(body: Buffer): {
  assets: number;
  batches: number;
  counts?: Record<string, unknown>;
} {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'bad_json', 'the body is not JSON');
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  const { assets, batches, complete } = record;
  const extra = Object.keys(record).filter(
    (key) => !['assets', 'batches', 'complete', ...COUNT_KEYS].includes(key),
  );
  const countKeys = COUNT_KEYS.filter((key) => key in record);
  if (
    !Number.isSafeInteger(assets) ||
    !Number.isSafeInteger(batches) ||
    (assets as number) < 0 ||
    (batches as number) < 0 ||
    complete !== true ||
    extra.length > 0 ||
    (countKeys.length > 0 && countKeys.length < COUNT_KEYS.length) ||
    ('partial' in record && typeof record['partial'] !== 'boolean') ||
    ('reconciled' in record && typeof record['reconciled'] !== 'boolean')
  ) {
    throw new HttpProblem(
      400,
      'bad_complete',
      'the body must be {assets, batches, complete: true} with all of the run counts or none',
    );
  }
  const counts = Object.fromEntries(countKeys.map((key) => [key, record[key]]));
  return {
    assets: assets as number,
    batches: batches as number,
    ...(countKeys.length > 0 ? { counts } : {}),
  };
}
