// Operation lookup, parameters and security of an OpenAPI 3.1 document, for test/helpers/openapi.ts.

/** The parts of an OpenAPI document the checker reads. */
export interface OpenApiDocument {
  readonly paths?: Record<string, Record<string, unknown>>;
  readonly components?: Record<string, Record<string, unknown>>;
  readonly security?: readonly Record<string, readonly string[]>[];
}

/** A node of the document and its JSON Pointer (after following local `$ref`s). */
export interface Located {
  readonly node: unknown;
  readonly pointer: string;
}

/** The operation a request maps to. */
export interface FoundOperation {
  readonly operation: Record<string, unknown>;
  readonly parameters: readonly Located[];
  readonly requestBody: Located | undefined;
  readonly pathParams: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Headers OpenAPI says a parameter definition must not describe (content type, auth). */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

/** Finds the operation by method and path template, or says why none matches. */
export function findOperation(
  document: OpenApiDocument,
  method: string,
  requestPath: string,
): FoundOperation | string {
  const url = new URL(requestPath, 'http://checker');
  for (const [template, pathItem] of Object.entries(document.paths ?? {})) {
    const pathParams = matchTemplate(template, url.pathname);
    if (pathParams === undefined) {
      continue;
    }
    const lower = method.toLowerCase();
    const operation = METHODS.includes(lower) ? pathItem[lower] : undefined;
    if (typeof operation !== 'object' || operation === null) {
      return `${method} is not an operation of ${template}`;
    }
    const itemPointer = `/paths/${escapePointer(template)}`;
    const parameters = [
      ...locateAll(document, pathItem['parameters'], `${itemPointer}/parameters`),
      ...locateAll(
        document,
        (operation as Record<string, unknown>)['parameters'],
        `${itemPointer}/${lower}/parameters`,
      ),
    ];
    const body = (operation as Record<string, unknown>)['requestBody'];
    return {
      operation: operation as Record<string, unknown>,
      parameters,
      requestBody:
        body === undefined
          ? undefined
          : follow(document, body, `${itemPointer}/${lower}/requestBody`),
      pathParams,
      query: url.searchParams,
    };
  }
  return `no path template matches ${url.pathname}`;
}

/** Missing required parameters and values that fail their schemas. */
export function parameterProblems(
  found: FoundOperation,
  headers: Readonly<Record<string, string>>,
  validateValue: (pointer: string, value: unknown) => string[],
): string[] {
  const problems: string[] = [];
  for (const { node, pointer } of found.parameters) {
    const parameter = node as Parameter & { schema?: { type?: unknown } };
    const raw = parameterValue(parameter, found, headers);
    if (raw === undefined) {
      if (parameter.required === true) {
        problems.push(`the ${parameter.in} parameter ${parameter.name} is required`);
      }
      continue;
    }
    if (parameter.schema !== undefined) {
      const value = coerce(raw, parameter.schema.type);
      problems.push(
        ...validateValue(`${pointer}/schema`, value).map(
          (problem) =>
            `${parameter.in} parameter ${parameter.name}: ${problem.replace(/^\/ /, '')}`,
        ),
      );
    }
  }
  return problems;
}

/** Whether the request satisfies one of the security requirements (an `{}` makes auth optional). */
export function securityProblems(
  document: OpenApiDocument,
  found: FoundOperation,
  headers: Readonly<Record<string, string>>,
): string[] {
  const requirements = (found.operation['security'] ?? document.security) as
    readonly Record<string, readonly string[]>[] | undefined;
  if (requirements === undefined || requirements.length === 0) {
    return [];
  }
  const schemes = document.components?.['securitySchemes'] ?? {};
  const satisfied = (requirement: Record<string, readonly string[]>): boolean =>
    Object.keys(requirement).every((name) => schemeSatisfied(schemes[name], headers));
  const optional = requirements.some((requirement) => Object.keys(requirement).length === 0);
  const authorization = headers['authorization'];
  if (
    requirements.some(
      (requirement) => Object.keys(requirement).length > 0 && satisfied(requirement),
    )
  ) {
    return [];
  }
  if (optional && authorization === undefined) {
    return [];
  }
  return [
    `no security requirement is met (${requirements.map((r) => Object.keys(r).join('+') || 'none').join(' | ')})`,
  ];
}

function schemeSatisfied(scheme: unknown, headers: Readonly<Record<string, string>>): boolean {
  const spec = (scheme ?? {}) as { type?: string; scheme?: string; in?: string; name?: string };
  if (spec.type === 'http') {
    const prefix = `${(spec.scheme ?? '').toLowerCase()} `;
    return (
      headers['authorization']?.toLowerCase().startsWith(prefix) === true &&
      headers['authorization'].length > prefix.length
    );
  }
  if (spec.type === 'apiKey' && spec.in === 'header' && spec.name !== undefined) {
    return headers[spec.name.toLowerCase()] !== undefined;
  }
  return false;
}

function parameterValue(
  parameter: Parameter,
  found: FoundOperation,
  headers: Readonly<Record<string, string>>,
): string | undefined {
  switch (parameter.in) {
    case 'path':
      return found.pathParams[parameter.name];
    case 'query':
      return found.query.get(parameter.name) ?? undefined;
    case 'header':
      return IGNORED_HEADERS.has(parameter.name.toLowerCase())
        ? undefined
        : headers[parameter.name.toLowerCase()];
    case 'cookie':
      return undefined;
  }
}

function coerce(raw: string, type: unknown): unknown {
  if (
    (type === 'integer' || type === 'number') &&
    raw.trim() !== '' &&
    !Number.isNaN(Number(raw))
  ) {
    return Number(raw);
  }
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) {
    return raw === 'true';
  }
  return raw;
}

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (name !== undefined) {
        names.push(name);
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const match = new RegExp(`^${pattern}$`).exec(path);
  if (match === null) {
    return undefined;
  }
  return Object.fromEntries(
    names.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]),
  );
}

function locateAll(document: OpenApiDocument, list: unknown, pointer: string): Located[] {
  return Array.isArray(list)
    ? list.map((item, index) => follow(document, item, `${pointer}/${index}`))
    : [];
}

/** Follows local `$ref`s (`#/components/...`) to the node they name. */
function follow(document: OpenApiDocument, node: unknown, pointer: string): Located {
  let current: Located = { node, pointer };
  for (let hops = 0; hops < 10; hops += 1) {
    const ref = (current.node as { $ref?: unknown } | null)?.$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) {
      return current;
    }
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>(
        (at, token) => (at as Record<string, unknown> | undefined)?.[unescape(token)],
        document,
      );
    current = { node: target, pointer: ref.slice(1) };
  }
  return current;
}

/** Escapes one JSON Pointer token (RFC 6901). */
export function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescape(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}
