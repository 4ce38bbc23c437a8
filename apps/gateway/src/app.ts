import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { parseVersionInput, parseVersionText, type SecretService } from '@secret-gateway/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ApiKeyVerifier } from './auth.ts';
import { sendError, sendThrown } from './http-errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import { writeJson } from './respond.ts';
import { deleteBody, firstMessage, getQuery, putBody } from './schemas.ts';

export interface AppDeps {
  service: SecretService;
  auth: ApiKeyVerifier;
  logger: Logger;
  metrics?: GatewayMetrics;
  bodyLimitBytes: number;
  /** False while draining at shutdown: /readyz answers 503 so load balancers stop sending. */
  isAccepting?: () => boolean;
}

/** A request listener for `http.createServer`, with the Express app behind it. */
export type GatewayHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  express: express.Express;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ROUTES = new Set(['/secrets', '/healthz', '/readyz', '/metrics', '/openapi.json']);
const NO_STORE = { 'Cache-Control': 'no-store' };

export function createApp(deps: AppDeps): GatewayHandler {
  const { service, auth, logger, metrics } = deps;

  /**
   * Request id in and out, one access-log line and metrics per request. Never the query string:
   * it is the one place a careless client could put a value.
   */
  const instrument = (req: IncomingMessage, res: ServerResponse, route: string): void => {
    const started = performance.now();
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.on('finish', () => {
      const ms = performance.now() - started;
      metrics?.observeRequest(route, req.method ?? '', res.statusCode, ms / 1000);
      logger.info(
        { reqId: id, method: req.method, route, status: res.statusCode, ms: Math.round(ms * 100) / 100 },
        'request',
      );
    });
  };

  const authorize = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (auth.verify(req.headers[auth.headerName])) return true;
    metrics?.authFailures.inc();
    sendError(res, 401, 'unauthorized', 'missing or invalid credentials');
    return false;
  };

  const getSecret = async (res: ServerResponse, rawQuery: unknown): Promise<void> => {
    const query = getQuery.safeParse(rawQuery);
    if (!query.success) return sendError(res, 400, 'invalid_request', firstMessage(query.error));
    const { path, version } = query.data;
    try {
      if (path === service.root && version === undefined) {
        // TrueFoundry's connectivity check when the integration is saved.
        await service.check();
        return writeJson(res, 200, { path, value: '' }, NO_STORE);
      }
      const record = await service.get(path, version === undefined ? undefined : parseVersionText(version));
      if (record.cache) res.setHeader('X-Cache', record.cache);
      writeJson(res, 200, { path: record.path, version: record.version, value: record.value }, NO_STORE);
    } catch (error) {
      sendThrown(res, error, 404);
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use((req: Request, res: Response, next: NextFunction) => {
    instrument(req, res, routeLabel(req.path));
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
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    });
  }

  const openapi = JSON.stringify(buildOpenApi({ headerName: auth.headerName, root: service.root }));
  app.get('/openapi.json', (_req, res) => {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(openapi);
  });

  // Auth comes before body parsing, so unauthenticated clients cannot make the server parse bodies.
  app.use('/secrets', (req: Request, res: Response, next: NextFunction) => {
    if (authorize(req, res)) next();
  });

  // Any content type is read as JSON: clients that forget the header still get a precise error.
  const json = express.json({ limit: deps.bodyLimitBytes, strict: false, type: () => true });

  app.get('/secrets', (req, res) => getSecret(res, req.query));

  app.put('/secrets', json, async (req, res) => {
    const body = putBody.safeParse(isEmpty(req.body) ? undefined : req.body);
    if (!body.success) return sendError(res, 400, 'invalid_request', firstMessage(body.error));
    try {
      writeJson(res, 200, await service.put(body.data.path, body.data.value));
    } catch (error) {
      sendThrown(res, error);
    }
  });

  app.delete('/secrets', json, async (req, res) => {
    // The body wins; query parameters serve clients that cannot send a body with DELETE.
    const source = isEmpty(req.body) && req.query.path !== undefined ? { ...req.query } : req.body;
    const body = deleteBody.safeParse(source);
    if (!body.success) return sendError(res, 400, 'invalid_request', firstMessage(body.error));
    try {
      const version = body.data.version === undefined ? undefined : parseVersionInput(body.data.version);
      await service.delete(body.data.path, version);
      writeJson(res, 200, {
        path: body.data.path,
        ...(version === undefined ? {} : { version }),
        deleted: true,
      });
    } catch (error) {
      sendThrown(res, error, 400);
    }
  });

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
   * skips Express's router: the same instrument/authorize/getSecret steps as the Express route above,
   * without walking the middleware stack. Every other request goes through Express.
   */
  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url.startsWith('/secrets?')) {
      instrument(req, res, '/secrets');
      if (authorize(req, res)) void getSecret(res, parseQuery(url.slice(9)));
      return;
    }
    app(req, res);
  }) as GatewayHandler;
  handler.express = app;
  return handler;
}

/** No body, or an empty one (body-parser turns an empty body into `{}`). */
function isEmpty(body: unknown): boolean {
  return (
    body === undefined ||
    (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0)
  );
}

function routeLabel(path: string): string {
  return ROUTES.has(path) ? path : 'other';
}

/** Name and message only: a cause chain can hold SDK request objects. */
function describeError(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'unknown', message: '' };
}
