import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import {
  escapePointer,
  findOperation,
  parameterProblems,
  securityProblems,
} from './openapi-operations.ts';
import type { Located, OpenApiDocument } from './openapi-operations.ts';

/** A request as a server saw it. */
export interface CheckedRequest {
  readonly method: string;
  /** Path with an optional query string, e.g. `/v1/runs/r1/batches`. */
  readonly path: string;
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

/** Checks requests against an OpenAPI 3.1 document. */
export interface OpenApiChecker {
  /** Every way the request departs from the document; empty when it conforms. */
  check(request: CheckedRequest): string[];
}

/** Words OpenAPI adds to its schema objects and documents, so ajv's strict mode accepts them. */
const OPENAPI_KEYWORDS = ['discriminator', 'xml', 'externalDocs', 'example'];
const MAX_LINE_PROBLEMS = 5;

/**
 * Loads an OpenAPI 3.1 document (YAML or JSON) and the files its `$ref`s point to, and returns a
 * checker: it finds the operation by method and path template, checks path, query and header
 * parameters against their schemas, the security requirement, and the body by media type
 * (`Content-Encoding: gzip` inflated first): JSON against `schema`, NDJSON line by line against
 * the media type's `x-item-schema` (3.2's `itemSchema` for sequential media, spelled for 3.1).
 */
export function createOpenApiChecker(documentPath: string | URL): OpenApiChecker {
  const file =
    typeof documentPath === 'string' ? resolvePath(documentPath) : fileURLToPath(documentPath);
  const docUrl = pathToFileURL(file).href;
  const document = parseYaml(readFileSync(file, 'utf8')) as OpenApiDocument;
  const ajv = new Ajv2020({ allErrors: true, strict: true, validateSchema: false });
  addFormatsModule.default(ajv);
  ajv.addVocabulary([
    ...OPENAPI_KEYWORDS,
    'openapi',
    'info',
    'servers',
    'paths',
    'components',
    'security',
    'tags',
    'webhooks',
    'x-item-schema',
  ]);
  addReferencedFiles(ajv, document, docUrl, new Set([docUrl]));
  ajv.addSchema(document, docUrl);
  const validators = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string): ValidateFunction => {
    let validate = validators.get(pointer);
    if (validate === undefined) {
      validate = ajv.compile({ $ref: `${docUrl}#${pointer}` });
      validators.set(pointer, validate);
    }
    return validate;
  };
  return {
    check: (request) => checkRequest(document, validatorAt, request),
  };
}

function checkRequest(
  document: OpenApiDocument,
  validatorAt: (pointer: string) => ValidateFunction,
  request: CheckedRequest,
): string[] {
  const headers = lowerCaseHeaders(request.headers);
  const found = findOperation(document, request.method, request.path);
  if (typeof found === 'string') {
    return [found];
  }
  const validateValue = (pointer: string, value: unknown): string[] =>
    describeErrors(validatorAt(pointer), value);
  return [
    ...parameterProblems(found, headers, validateValue),
    ...securityProblems(document, found, headers),
    ...bodyProblems(found.requestBody, headers, request.body, validateValue),
  ];
}

function bodyProblems(
  requestBody: Located | undefined,
  headers: Readonly<Record<string, string>>,
  body: Buffer,
  validateValue: (pointer: string, value: unknown) => string[],
): string[] {
  if (requestBody === undefined) {
    return body.length === 0 ? [] : ['the operation takes no body, but one was sent'];
  }
  const spec = requestBody.node as {
    required?: boolean;
    content?: Record<string, Record<string, unknown>>;
  };
  if (body.length === 0) {
    return spec.required === true ? ['the request body is required'] : [];
  }
  const mediaType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const media = spec.content?.[mediaType];
  if (media === undefined) {
    return [
      `Content-Type ${mediaType || '(none)'} is not one of ${Object.keys(spec.content ?? {}).join(', ')}`,
    ];
  }
  const pointer = `${requestBody.pointer}/content/${escapePointer(mediaType)}`;
  let decoded = body;
  if (headers['content-encoding']?.toLowerCase() === 'gzip') {
    try {
      decoded = gunzipSync(body);
    } catch {
      return ['the body is not valid gzip although Content-Encoding says gzip'];
    }
  }
  if (media['x-item-schema'] !== undefined) {
    return lineProblems(decoded, (value) => validateValue(`${pointer}/x-item-schema`, value));
  }
  if (
    media['schema'] !== undefined &&
    (mediaType === 'application/json' || mediaType.endsWith('+json'))
  ) {
    const value = parseJson(decoded.toString('utf8'));
    if (value === NOT_JSON) {
      return ['the body is not JSON'];
    }
    return validateValue(`${pointer}/schema`, value).map((problem) => `body: ${problem}`);
  }
  return [];
}

function lineProblems(ndjson: Buffer, validate: (value: unknown) => string[]): string[] {
  const text = ndjson.toString('utf8');
  if (!text.endsWith('\n')) {
    return ['the NDJSON body does not end with a newline'];
  }
  const problems: string[] = [];
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      if (problems.length >= MAX_LINE_PROBLEMS) {
        return;
      }
      const value = parseJson(line);
      if (value === NOT_JSON) {
        problems.push(`line ${index + 1}: not JSON`);
        return;
      }
      problems.push(...validate(value).map((problem) => `line ${index + 1}: ${problem}`));
    });
  return problems;
}

/** Adds every file a `$ref` names (relative to its referrer) to ajv under its file URL. */
function addReferencedFiles(ajv: Ajv2020, node: unknown, baseUrl: string, seen: Set<string>): void {
  if (Array.isArray(node)) {
    node.forEach((item) => {
      addReferencedFiles(ajv, item, baseUrl, seen);
    });
    return;
  }
  if (typeof node !== 'object' || node === null) {
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) {
      const target = new URL(value, baseUrl);
      target.hash = '';
      if (!seen.has(target.href)) {
        seen.add(target.href);
        const schema = parseYaml(readFileSync(fileURLToPath(target), 'utf8')) as unknown;
        addReferencedFiles(ajv, schema, target.href, seen);
        // A file without $id gets its URL, so its own `#/$defs/...` resolve inside it.
        ajv.addSchema({ $id: target.href, ...(schema as object) }, target.href);
      }
    } else {
      addReferencedFiles(ajv, value, baseUrl, seen);
    }
  }
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function describeErrors(validate: ValidateFunction, value: unknown): string[] {
  if (validate(value)) {
    return [];
  }
  return (validate.errors ?? []).map(
    (error: ErrorObject) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`,
  );
}

function lowerCaseHeaders(
  headers: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) {
      lower[name.toLowerCase()] = value;
    }
  }
  return lower;
}
