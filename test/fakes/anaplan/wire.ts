import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers JSON. */
export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

/** Anaplan's error envelope of the Integration API. */
export function sendApiError(
  response: ServerResponse,
  status: number,
  path: string,
  headers: Record<string, string> = {},
): void {
  const message =
    {
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      405: 'Method Not Allowed',
      429: 'Too Many Requests',
    }[status] ?? 'Internal Server Error';
  sendJson(
    response,
    status,
    { status: { code: status, message }, path, timestamp: new Date().toISOString() },
    headers,
  );
}

/** Reads a request body (small: auth calls only). */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
