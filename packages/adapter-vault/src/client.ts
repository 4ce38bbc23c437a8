import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import nodeVault from 'node-vault';
import type { VaultAdapterOptions } from './config.ts';
import { ConsistencyState } from './consistency.ts';

export type VaultClient = nodeVault.client;

/** Per-call options every node-vault call gets: the deadline's signal and a hard timeout. */
export interface VaultRequestOptions {
  signal?: AbortSignal;
  timeout: number;
  headers?: Record<string, string>;
}

/**
 * Where the transport leaves Vault's Retry-After (seconds) on an error body. node-vault keeps only
 * the status and body of a failed response, so the header travels on the body object.
 */
export const RETRY_AFTER = Symbol('vault.retryAfter');

export interface VaultConnection {
  client: VaultClient;
  /** Closes idle keep-alive sockets. */
  close: () => void;
  /** The newest X-Vault-Index seen, sent back on every request. */
  consistency: ConsistencyState;
}

/**
 * A node-vault client as production uses it. `noCustomHTTPVerbs`: LIST goes out as `GET ?list=1`.
 * The HTTP transport is ours, through node-vault's documented `request-promise` hook, for two things
 * its built-in one cannot do: abort a request when the gateway's deadline fires (`signal`), and
 * see Vault's Retry-After header.
 */
export function createVaultClient(options: VaultAdapterOptions): VaultConnection {
  const https = options.endpoint.startsWith('https:');
  const ca = options.ca ? readFileSync(options.ca) : undefined;
  const agent = https
    ? new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) })
    : new HttpAgent({ keepAlive: true });
  const consistency = new ConsistencyState();
  const transport = {
    defaults: () => (request: TransportRequest) => sendOnce(request, agent, https, consistency),
  };
  const client = nodeVault({
    endpoint: options.endpoint,
    token: 'token' in options.auth ? options.auth.token : undefined,
    namespace: options.namespace,
    noCustomHTTPVerbs: true,
    'request-promise': transport,
  });
  // node-vault falls back to process.env for these; the adapter's configuration is the only source.
  client.token = 'token' in options.auth ? options.auth.token : (undefined as unknown as string);
  (client as { namespace?: string }).namespace = options.namespace;
  return { client, close: () => agent.destroy(), consistency };
}

interface TransportRequest {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
  timeout?: number;
  signal?: AbortSignal;
}

interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

/**
 * A kept-alive socket may have been closed by Vault (or a load balancer) just as we reuse it; a
 * read is then sent again once on a fresh socket. Writes are not: the first may have landed.
 */
async function sendOnce(
  request: TransportRequest,
  agent: HttpAgent,
  https: boolean,
  consistency: ConsistencyState,
) {
  try {
    return await send(request, agent, https, consistency);
  } catch (error) {
    const stale = (error as { reusedSocket?: boolean; code?: string }).reusedSocket === true;
    if (!stale || request.method !== 'GET' || request.signal?.aborted) throw error;
    return send(request, agent, https, consistency);
  }
}

/** One HTTP exchange, shaped as node-vault's handleVaultResponse expects. */
function send(
  request: TransportRequest,
  agent: HttpAgent,
  https: boolean,
  consistency: ConsistencyState,
): Promise<TransportResponse> {
  const url = new URL(request.uri);
  const payload =
    request.json !== undefined && request.json !== true ? JSON.stringify(request.json) : undefined;
  const headers: Record<string, string | number> = {
    accept: 'application/json',
    ...consistency.headers(),
    ...request.headers,
  };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: request.method,
      headers,
      agent,
      signal: request.signal,
    });
    // A hard bound on the whole exchange, not only on idle sockets (node-vault has no default).
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`no answer within ${request.timeout} ms`), { code: 'ETIMEDOUT' }));
    }, request.timeout ?? 5000);
    req.once('error', (error) => {
      clearTimeout(timer);
      const code = (error as { code?: string }).code;
      const reset = code === 'ECONNRESET' || code === 'EPIPE';
      reject(reset && req.reusedSocket ? Object.assign(error, { reusedSocket: true }) : error);
    });
    req.once('response', (res) => {
      consistency.record(res.headers['x-vault-index']);
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      res.once('end', () => {
        clearTimeout(timer);
        resolve({
          statusCode: res.statusCode ?? 0,
          body: parseBody(res, Buffer.concat(chunks).toString('utf8')),
          request: { path: url.pathname },
        });
      });
    });
    req.end(payload);
  });
}

function parseBody(res: IncomingMessage, text: string): unknown {
  const status = res.statusCode ?? 0;
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // A proxy's HTML error page: never let it look like Vault's `{"errors":[]}` (a definite not-found).
    body = undefined;
  }
  if (status < 300) return body;
  const error: Record<string | symbol, unknown> =
    typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>)
      : { errors: [`HTTP ${status} without a Vault error body`] };
  const retryAfter = parseRetryAfter(res.headers['retry-after']);
  if (retryAfter !== undefined) Object.defineProperty(error, RETRY_AFTER, { value: retryAfter });
  return error;
}

/** Retry-After as delay-seconds or an HTTP date. */
export function parseRetryAfter(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}
