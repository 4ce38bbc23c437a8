import type { ServerResponse } from 'node:http';

/**
 * Writes a JSON response with plain `node:http` calls. Used by every route (Express's `res.json`
 * needs Express's request wiring, which the GET fast path skips), so all answers look the same.
 */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  if (headers) for (const name in headers) res.setHeader(name, headers[name] as string);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
