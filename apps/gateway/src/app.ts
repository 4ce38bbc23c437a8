import { randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type CacheResult,
  parseVersionInput,
  parseVersionText,
  type SecretRecord,
  type SecretService,
  type StoredSecret,
} from '@secret-gateway/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { accessLog } from './access-log.ts';
import type { AuditEntry, AuditLog } from './audit.ts';
import { allows, type FailedAuthLimiter, type KeyStore, type Principal } from './auth.ts';
import type { Operation } from './config.ts';
import {
  errorOutcome,
  type Outcome,
  sendError,
  sendOutcome,
  sendThrown,
  thrownOutcome,
} from './http-errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import {
  attachMeta,
  JSON_TYPE,
  metaOf,
  PreparedJson,
  type ResponseMeta,
  writeJson,
  writeText,
} from './respond.ts';
import { deleteBody, firstMessage, getQuery, putBody } from './schemas.ts';

export interface AppDeps {
  service: SecretService;
  keys: KeyStore;
  logger: Logger;
  metrics?: GatewayMetrics;
  bodyLimitBytes: number;
  /** Refuse writes and deletes (403) whatever the key allows. */
  readOnly?: boolean;
  audit?: AuditLog;
  limiter?: FailedAuthLimiter;
  /** False while draining at shutdown: /readyz answers 503 so load balancers stop sending. */
  isAccepting?: () => boolean;
}

/** A request listener for `http.createServer`, with the Express app behind it. */
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What one request carries through the steps; also the response's meta (id, access log, metrics). */
interface Ctx extends ResponseMeta {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: string;
  readonly started: number;
  client: string;
  principal: Principal | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids for requests that bring none: UUID-shaped, the first four groups of a random UUID
 * drawn once per process, then a counter from a random start. Unique across processes and
 * restarts at a quarter of randomUUID's cost; they identify requests, they are not secrets.
 */
export function requestIds(): () => string {
  const prefix = randomUUID().slice(0, 24);
  let counter = randomInt(2 ** 48 - 1);
  return () => {
    counter = (counter + 1) % 2 ** 48;
    return prefix + counter.toString(16).padStart(12, '0');
  };
}
const ROUTES = new Set(['/secrets', '/healthz', '/readyz', '/metrics', '/openapi.json']);
/** Header lists made once: no store, and how the read cache answered when there is one. */
const SECRET_HEADERS = ['Cache-Control', 'no-store'];
const CACHE_HEADERS: Record<CacheResult, readonly string[]> = {
  hit: [...SECRET_HEADERS, 'X-Cache', 'hit'],
  miss: [...SECRET_HEADERS, 'X-Cache', 'miss'],
  coalesced: [...SECRET_HEADERS, 'X-Cache', 'coalesced'],
  stale: [...SECRET_HEADERS, 'X-Cache', 'stale'],
};

/**
 * Bodies of cache hits, made once per cache entry: the entry's own object is the key, so a body
 * goes when its entry goes and a new version gets a new body.
 */
const hitBodies = new WeakMap<Readonly<StoredSecret>, PreparedJson>();

function hitOutcome(path: string, found: Readonly<StoredSecret>): Outcome {
  let body = hitBodies.get(found);
  if (body === undefined) {
    body = new PreparedJson(JSON.stringify({ path, version: found.version, value: found.value }));
    hitBodies.set(found, body);
  }
  return { status: 200, body, headers: CACHE_HEADERS.hit };
}

function secretOutcome(record: SecretRecord): Outcome {
  return {
    status: 200,
    body: { path: record.path, version: record.version, value: record.value },
    headers: record.cache ? CACHE_HEADERS[record.cache] : SECRET_HEADERS,
  };
}
const METHOD_OPS: Record<string, Operation> = { GET: 'read', HEAD: 'read', PUT: 'write', DELETE: 'delete' };

export function createApp(deps: AppDeps): GatewayHandler {
  const { service, keys, logger, metrics, audit, limiter } = deps;
  let auditFailureLogged = false;
  const access = accessLog(logger);
  const nextId = requestIds();

  /**
   * One object per request: it carries the request through the steps and, once the answer is
   * written, writes one access-log line and the request metrics. Never the query string: it is
   * the one place a careless client could put a value.
   */
  class Exchange implements Ctx {
    readonly id: string;
    readonly close: boolean;
    readonly started = performance.now();
    client = '';
    principal: Principal | undefined = undefined;

    constructor(
      readonly req: IncomingMessage,
      readonly res: ServerResponse,
      readonly route: string,
    ) {
      const incoming = req.headers['x-request-id'];
      this.id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : nextId();
      this.close = deps.isAccepting !== undefined && !deps.isAccepting();
      attachMeta(res, this);
    }

    sent(status: number): void {
      const ms = performance.now() - this.started;
      const method = this.req.method ?? '';
      metrics?.observeRequest(this.route, method, status, ms / 1000);
      access?.({
        reqId: this.id,
        method,
        route: this.route,
        status,
        key: this.principal?.name,
        ms: Math.round(ms * 100) / 100,
      });
    }
  }

  const auditEntry = (
    ctx: Ctx,
    op: AuditEntry['op'],
    path: string | null,
    version: number | null | undefined,
    outcome: Outcome | 'attempt',
  ): AuditEntry => ({
    key: ctx.principal?.name ?? null,
    client: ctx.client,
    op,
    path,
    version: version ?? null,
    outcome: outcome === 'attempt' ? 'attempt' : outcome.status,
    code: outcome === 'attempt' ? undefined : outcome.code,
    requestId: ctx.id,
  });

  /** Audits the outcome, then sends it. In fail-closed mode nothing is sent before its line is written. */
  const finish = (
    ctx: Ctx,
    op: AuditEntry['op'],
    path: string | null,
    version: number | null | undefined,
    outcome: Outcome,
  ): void | Promise<void> => {
    if (!audit) return sendOutcome(ctx.res, outcome);
    const written = audit.record(auditEntry(ctx, op, path, version, outcome));
    if (audit.failClosed) {
      return written.then(
        () => sendOutcome(ctx.res, outcome),
        () =>
          sendOutcome(
            ctx.res,
            errorOutcome(503, 'backend_unavailable', 'the audit trail cannot be written: request refused', 1),
          ),
      );
    }
    written.catch((error: Error) => {
      if (auditFailureLogged) return;
      auditFailureLogged = true;
      logger.error({ err: { name: error.name, message: error.message } }, 'audit trail write failed');
    });
    sendOutcome(ctx.res, outcome);
  };

  /** Fail-closed mode: a change is made only after a line saying it is about to be made is on disk. */
  const preAudit = async (
    ctx: Ctx,
    op: AuditEntry['op'],
    path: string,
    version?: number,
  ): Promise<boolean> => {
    if (!audit?.failClosed) return true;
    try {
      await audit.record(auditEntry(ctx, op, path, version, 'attempt'));
      return true;
    } catch {
      sendOutcome(
        ctx.res,
        errorOutcome(503, 'backend_unavailable', 'the audit trail cannot be written: request refused', 1),
      );
      return false;
    }
  };

  /**
   * Lockout, then the key. On success returns the context; otherwise it has answered (429, or a
   * 401 delayed by the failed-auth limiter) and returns undefined.
   */
  const gate = (ctx: Ctx): Ctx | undefined => {
    const { req } = ctx;
    ctx.client = req.socket.remoteAddress ?? 'unknown';
    const op = METHOD_OPS[req.method ?? ''] ?? 'other';
    const locked = limiter?.lockedFor(ctx.client) ?? 0;
    if (locked > 0) {
      void finish(
        ctx,
        op,
        null,
        null,
        errorOutcome(429, 'rate_limited', 'too many failed authentication attempts', locked),
      );
      return undefined;
    }
    const principal = keys.authenticate(req.headers[keys.headerName], req.socket);
    if (principal) {
      ctx.principal = principal;
      return ctx;
    }
    metrics?.authFailures.inc();
    const delay = limiter?.fail(ctx.client) ?? 0;
    const outcome =
      delay < 0
        ? errorOutcome(
            429,
            'rate_limited',
            'too many failed authentication attempts',
            limiter?.lockedFor(ctx.client),
          )
        : errorOutcome(401, 'unauthorized', 'missing or invalid credentials');
    if (delay > 0) setTimeout(() => void finish(ctx, op, null, null, outcome), delay);
    else void finish(ctx, op, null, null, outcome);
    return undefined;
  };

  const forbidden = (ctx: Ctx, op: Operation, path: string | null): Outcome | undefined => {
    if (deps.readOnly && op !== 'read') return errorOutcome(403, 'forbidden', 'this gateway is read-only');
    const principal = ctx.principal as Principal;
    if (allows(principal, op, path === service.root ? undefined : (path ?? undefined))) return undefined;
    return errorOutcome(403, 'forbidden', `key ${principal.name} may not ${op} ${path ?? 'this path'}`);
  };

  /** The path if it follows contract.md §2; otherwise answers 400 (auditing no path) and returns undefined. */
  const validPath = (ctx: Ctx, op: Operation, raw: string): string | undefined => {
    try {
      return service.parsePath(raw);
    } catch (error) {
      void finish(ctx, op, null, null, thrownOutcome(error));
      return undefined;
    }
  };

  const getSecret = (ctx: Ctx, rawQuery: unknown): void | Promise<void> => {
    const query = getQuery.safeParse(rawQuery);
    if (!query.success)
      return finish(ctx, 'read', null, null, errorOutcome(400, 'invalid_request', firstMessage(query.error)));
    const { version: versionText } = query.data;
    // Only a valid path reaches the audit trail and messages: raw input could hold anything.
    const path = query.data.path === service.root ? query.data.path : validPath(ctx, 'read', query.data.path);
    if (path === undefined) return;
    const denied = forbidden(ctx, 'read', path);
    if (denied) return finish(ctx, 'read', path, null, denied);
    // TrueFoundry's connectivity check when the integration is saved.
    if (path === service.root && versionText === undefined) return checkRoot(ctx, path);
    let version: number | undefined;
    try {
      version = versionText === undefined ? undefined : parseVersionText(versionText);
    } catch (error) {
      return finish(ctx, 'read', path, null, thrownOutcome(error, 404));
    }
    // A fresh cache hit is answered synchronously: no promise, no microtask.
    const hit = service.peek(path, version);
    if (hit) return finish(ctx, 'read', path, hit.version, hitOutcome(path, hit));
    return readSecret(ctx, path, version);
  };

  const readSecret = async (ctx: Ctx, path: string, version: number | undefined): Promise<void> => {
    let outcome: Outcome;
    try {
      const record = await service.get(path, version);
      version = record.version;
      outcome = secretOutcome(record);
    } catch (error) {
      outcome = thrownOutcome(error, 404);
    }
    return finish(ctx, 'read', path, version, outcome);
  };

  const checkRoot = async (ctx: Ctx, path: string): Promise<void> => {
    let outcome: Outcome;
    try {
      await service.check();
      outcome = { status: 200, body: { path, value: '' }, headers: SECRET_HEADERS };
    } catch (error) {
      outcome = thrownOutcome(error, 404);
    }
    return finish(ctx, 'read', path, undefined, outcome);
  };

  const putSecret = async (ctx: Ctx, rawBody: unknown): Promise<void> => {
    const body = putBody.safeParse(isEmpty(rawBody) ? undefined : rawBody);
    if (!body.success)
      return finish(ctx, 'write', null, null, errorOutcome(400, 'invalid_request', firstMessage(body.error)));
    const { value } = body.data;
    const path = validPath(ctx, 'write', body.data.path);
    if (path === undefined) return;
    const denied = forbidden(ctx, 'write', path);
    if (denied) return finish(ctx, 'write', path, null, denied);
    if (!(await preAudit(ctx, 'write', path))) return;
    try {
      const written = await service.put(path, value);
      return finish(ctx, 'write', path, written.version, { status: 200, body: written });
    } catch (error) {
      return finish(ctx, 'write', path, null, thrownOutcome(error));
    }
  };

  const deleteSecret = async (ctx: Ctx, rawBody: unknown, query: Record<string, unknown>): Promise<void> => {
    // The body wins; query parameters serve clients that cannot send a body with DELETE.
    const source = isEmpty(rawBody) && query.path !== undefined ? { ...query } : rawBody;
    const body = deleteBody.safeParse(source);
    if (!body.success)
      return finish(
        ctx,
        'delete',
        null,
        null,
        errorOutcome(400, 'invalid_request', firstMessage(body.error)),
      );
    const path = validPath(ctx, 'delete', body.data.path);
    if (path === undefined) return;
    const denied = forbidden(ctx, 'delete', path);
    if (denied) return finish(ctx, 'delete', path, null, denied);
    let version: number | undefined;
    try {
      version = body.data.version === undefined ? undefined : parseVersionInput(body.data.version);
      if (!(await preAudit(ctx, 'delete', path, version))) return;
      await service.delete(path, version);
      const answer = { path, ...(version === undefined ? {} : { version }), deleted: true };
      return finish(ctx, 'delete', path, version, { status: 200, body: answer });
    } catch (error) {
      return finish(ctx, 'delete', path, version, thrownOutcome(error, 400));
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use((req: Request, res: Response, next: NextFunction) => {
    new Exchange(req, res, ROUTES.has(req.path) ? req.path : 'other');
    next();
  });

  app.get('/healthz', (_req, res) => writeJson(res, 200, { status: 'ok' }));

  app.get('/readyz', async (_req, res) => {
    if (deps.isAccepting && !deps.isAccepting()) {
      return sendError(res, 503, 'backend_unavailable', 'gateway is shutting down', 1);
    }
    try {
      await service.check();
      writeJson(res, 200, { status: 'ready', backend: service.adapter.name });
    } catch (error) {
      sendThrown(res, error);
    }
  });

  if (metrics) {
    app.get('/metrics', async (_req, res) => {
      writeText(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
    });
  }

  const openapi = JSON.stringify(buildOpenApi({ headerName: keys.headerName, root: service.root }));
  app.get('/openapi.json', (_req, res) => writeText(res, 200, JSON_TYPE, openapi));

  const ctxOf = (res: ServerResponse) => metaOf(res) as Ctx;

  // Auth comes before body parsing, so unauthenticated clients cannot make the server parse bodies.
  app.use('/secrets', (_req: Request, res: Response, next: NextFunction) => {
    if (gate(ctxOf(res))) next();
  });

  // Any content type is read as JSON: clients that forget the header still get a precise error.
  const json = express.json({ limit: deps.bodyLimitBytes, strict: false, type: () => true });

  app.get('/secrets', (req, res) => getSecret(ctxOf(res), req.query));
  app.put('/secrets', json, (req, res) => putSecret(ctxOf(res), req.body));
  app.delete('/secrets', json, (req, res) => deleteSecret(ctxOf(res), req.body, req.query));

  app.all('/secrets', (_req, res) => {
    res.setHeader('Allow', 'GET, PUT, DELETE');
    sendError(res, 405, 'invalid_request', 'method not allowed on /secrets (use GET, PUT or DELETE)');
  });

  app.use((_req, res) => sendError(res, 404, 'not_found', 'no such route'));

  // Body-parser failures and anything else that escaped a handler.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = error as { type?: string; status?: number };
    if (res.headersSent) return;
    if (e.type === 'entity.too.large') {
      return sendError(res, 413, 'payload_too_large', `request body exceeds ${deps.bodyLimitBytes} bytes`);
    }
    if (e.type === 'entity.parse.failed')
      return sendError(res, 400, 'invalid_request', 'body must be valid JSON');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, 'invalid_request', 'malformed request');
    }
    logger.error({ err: describeError(error) }, 'unhandled error');
    sendThrown(res, error);
  });

  /**
   * `GET /secrets?...` is nearly all of the traffic (TrueFoundry reads far more than it writes), so it
   * skips Express's router: the same Exchange/gate/getSecret steps as the Express route above,
   * without walking the middleware stack. Every other request goes through Express.
   */
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url.startsWith('/secrets?')) {
      const ctx = gate(new Exchange(req, res, '/secrets'));
      if (ctx) void getSecret(ctx, readQuery(url.slice(9)));
      return;
    }
    app(req, res);
  };
}

/**
 * `path` and `version` from a query string, as Express's "simple" parser (node:querystring) gives
 * them: absent, a string, or an array when repeated (which the schema refuses). URLSearchParams
 * decodes the same way (`+` is a space, `%XX` once) at about a quarter of querystring's cost.
 */
export function readQuery(search: string): { path?: string | string[]; version?: string | string[] } {
  // The common `path=...` alone, with nothing to decode, reads as itself.
  if (search.startsWith('path=') && !/[&%+#=]/.test(search.slice(5))) return { path: search.slice(5) };
  const params = new URLSearchParams(search);
  return { path: single(params.getAll('path')), version: single(params.getAll('version')) };
}

function single(all: string[]): string | string[] | undefined {
  return all.length === 0 ? undefined : all.length === 1 ? all[0] : all;
}

/** No body, or an empty one (body-parser turns an empty body into `{}`). */
function isEmpty(body: unknown): boolean {
  return (
    body === undefined ||
    (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0)
  );
}

/** Name and message only: a cause chain can hold SDK request objects. */
function describeError(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'unknown', message: '' };
}
