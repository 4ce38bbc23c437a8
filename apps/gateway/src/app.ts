import { randomUUID } from 'node:crypto';
import { parseVersionInput, parseVersionText, type SecretService } from '@secret-gateway/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ApiKeyVerifier } from './auth.ts';
import { sendError, sendThrown } from './http-errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
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

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp(deps: AppDeps): express.Express {
  const { service, auth, logger, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  // Request id in and out, one access-log line and metrics per request. Never the query string:
  // it is the one place a careless client could put a value.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    res.on('finish', () => {
      const route = routeLabel(req.originalUrl);
      const ms = performance.now() - started;
      metrics?.requests.inc({ route, method: req.method, status: String(res.statusCode) });
      metrics?.duration.observe({ route, method: req.method }, ms / 1000);
      logger.info(
        { reqId: id, method: req.method, route, status: res.statusCode, ms: Math.round(ms * 100) / 100 },
        'request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    if (deps.isAccepting && !deps.isAccepting()) {
      sendError(res, 503, 'backend_unavailable', 'gateway is shutting down', 1);
      return;
    }
    try {
      await service.check();
      res.json({ status: 'ready', backend: service.adapter.name });
    } catch (error) {
      sendThrown(res, error);
    }
  });

  if (metrics) {
    app.get('/metrics', async (_req, res) => {
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    });
  }

  const openapi = JSON.stringify(buildOpenApi({ headerName: auth.headerName, root: service.root }));
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openapi);
  });

  // Auth comes before body parsing, so unauthenticated clients cannot make the server parse bodies.
  app.use('/secrets', (req: Request, res: Response, next: NextFunction) => {
    if (auth.verify(req.headers[auth.headerName])) return next();
    metrics?.authFailures.inc();
    sendError(res, 401, 'unauthorized', 'missing or invalid credentials');
  });

  // Any content type is read as JSON: clients that forget the header still get a precise error.
  const json = express.json({ limit: deps.bodyLimitBytes, strict: false, type: () => true });

  app.get('/secrets', async (req, res) => {
    const query = getQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 400, 'invalid_request', firstMessage(query.error));
    const { path, version } = query.data;
    try {
      if (path === service.root && version === undefined) {
        // TrueFoundry's connectivity check when the integration is saved.
        await service.check();
        res.json({ path, value: '' });
        return;
      }
      const record = await service.get(path, version === undefined ? undefined : parseVersionText(version));
      res.json({ path: record.path, version: record.version, value: record.value });
    } catch (error) {
      sendThrown(res, error, 404);
    }
  });

  app.put('/secrets', json, async (req, res) => {
    const body = putBody.safeParse(isEmpty(req.body) ? undefined : req.body);
    if (!body.success) return sendError(res, 400, 'invalid_request', firstMessage(body.error));
    try {
      res.json(await service.put(body.data.path, body.data.value));
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
      res.json({ path: body.data.path, ...(version === undefined ? {} : { version }), deleted: true });
    } catch (error) {
      sendThrown(res, error, 400);
    }
  });

  app.all('/secrets', (_req, res) => {
    res.setHeader('Allow', 'GET, PUT, DELETE');
    sendError(res, 405, 'invalid_request', 'method not allowed on /secrets (use GET, PUT or DELETE)');
  });

  app.use((_req, res) => {
    sendError(res, 404, 'not_found', 'no such route');
  });

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
    logger.error({ err: describeError(error), reqId: res.locals.requestId }, 'unhandled error');
    sendThrown(res, error);
  });

  return app;
}

/** No body, or an empty one (body-parser turns an empty body into `{}`). */
function isEmpty(body: unknown): boolean {
  return (
    body === undefined ||
    (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0)
  );
}

function routeLabel(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path === '/secrets' ||
    path === '/healthz' ||
    path === '/readyz' ||
    path === '/metrics' ||
    path === '/openapi.json'
    ? path
    : 'other';
}

/** Name and message only: a cause chain can hold SDK request objects. */
function describeError(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'unknown', message: '' };
}
