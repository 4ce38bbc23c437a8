import type { ServerResponse } from 'node:http';

/**
 * What the app attaches to each response: its request id, whether to close the connection
 * (draining), and what to do once the answer is written (the access-log line and metrics).
 */
export interface ResponseMeta {
  readonly id: string;
  readonly close: boolean;
  sent(status: number): void;
}

const META = Symbol('sgw.response');
type Tracked = ServerResponse & { [META]?: ResponseMeta };

export function attachMeta(res: ServerResponse, meta: ResponseMeta): void {
  (res as Tracked)[META] = meta;
}

export function metaOf(res: ServerResponse): ResponseMeta | undefined {
  return (res as Tracked)[META];
}

export const JSON_TYPE = 'application/json; charset=utf-8';

/** Extra headers: an object, or a flat `[name, value, ...]` list made once for a hot path. */
export type Headers = Readonly<Record<string, string>> | readonly string[];

/** A JSON body serialised once, with its byte length, for an answer sent many times. */
export class PreparedJson {
  readonly length: string;
  constructor(readonly text: string) {
    this.length = String(Buffer.byteLength(text));
  }
}

/** Writes a JSON response. Every route answers through here, so all answers look the same. */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Headers,
  close = false,
): void {
  if (body instanceof PreparedJson) writeText(res, status, JSON_TYPE, body.text, headers, body.length, close);
  else writeText(res, status, JSON_TYPE, JSON.stringify(body), headers, undefined, close);
}

/**
 * Status, headers and body in one `writeHead` + `end`: a flat header list skips the per-header
 * bookkeeping of `setHeader`, and the whole answer leaves in one write.
 */
export function writeText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers?: Headers,
  length = String(Buffer.byteLength(text)),
  close = false,
): void {
  const meta = (res as Tracked)[META];
  const head: string[] = ['Content-Type', contentType, 'Content-Length', length];
  if (meta) head.push('X-Request-Id', meta.id);
  // While draining, tell keep-alive clients to go, so shutdown does not wait for idle sockets; and
  // after an answer given without reading the request's body, the connection cannot be reused.
  if (close || meta?.close) head.push('Connection', 'close');
  if (Array.isArray(headers)) for (const item of headers) head.push(item);
  else if (headers)
    for (const name in headers) head.push(name, (headers as Record<string, string>)[name] as string);
  res.writeHead(status, head);
  res.end(text);
  meta?.sent(status);
}
