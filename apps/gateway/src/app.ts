import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequestError, MethodNotAllowedError, SecretGatewayError } from '@secret-gateway/core';
import type { GroupService } from '@secret-gateway/groups';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { groupsRoutes } from './api/groups.ts';
import { opsRoutes } from './api/ops.ts';
import { secretsRoutes } from './api/secrets.ts';
import type { AuditLog } from './audit.ts';
import type { FailedAuthLimiter, KeyStore } from './auth.ts';
import type { Trust } from './client-address.ts';
import { outcomeOf } from './http-errors.ts';
import type { Integrations } from './integrations.ts';
import type { GatewayMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import { createPipeline, type Exchange, type RefusalSink, type Route } from './pipeline.ts';
import { metaOf } from './respond.ts';
import type { SubjectStore } from './subjects.ts';

export { readQuery } from './api/secrets.ts';
export { requestIds } from './pipeline.ts';

export interface AppDeps {
  integrations: Integrations;
  /** The secret-groups API; absent: only /secrets and the operational endpoints. */
  groups?: GroupService;
  subjects?: SubjectStore;
  keys: KeyStore;
  logger: Logger;
  metrics?: GatewayMetrics;
  bodyLimitBytes: number;
  /** Refuse writes and deletes (403) whatever the key allows. */
  readOnly?: boolean;
  audit?: AuditLog;
  refusals?: RefusalSink;
  limiter?: FailedAuthLimiter;
  trust?: Trust;
  /** False while draining at shutdown: /readyz answers 503 so load balancers stop sending. */
  isAccepting?: () => boolean;
}

/** A request listener for `http.createServer`, with the Express app behind it. */
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The gateway: one pipeline (pipeline.ts) and the route tables of its APIs, registered on an
 * Express router that matches them (case-insensitive, an optional trailing slash, as Express does)
 * and labels each request with its route's template. `GET /secrets?...`, nearly all of the traffic,
 * goes to the same route without walking Express's middleware stack.
 */
export function createApp(deps: AppDeps): GatewayHandler {
  const pipeline = createPipeline(deps);
  const root = deps.integrations.default.service.root;
  const openapi = JSON.stringify(
    buildOpenApi({ headerName: deps.keys.headerName, root, groups: deps.groups !== undefined }),
  );
  const routes: Route[] = [
    ...opsRoutes({ ...deps, openapi }),
    ...secretsRoutes({
      integrations: deps.integrations,
      groups: deps.groups,
      pipeline,
      readOnly: deps.readOnly,
    }),
    ...(deps.groups
      ? groupsRoutes({
          groups: deps.groups,
          integrations: deps.integrations,
          pipeline,
          root,
          readOnly: deps.readOnly,
        })
      : []),
  ];

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const ctxOf = (res: ServerResponse) => metaOf(res) as Exchange;

  const methodsOf = new Map<string, string[]>();
  for (const route of routes) {
    app[route.method.toLowerCase() as 'get' | 'put' | 'delete' | 'post'](
      route.path,
      (_req: Request, res: Response) => pipeline.run(route, ctxOf(res)),
    );
    methodsOf.set(route.path, [...(methodsOf.get(route.path) ?? []), route.method]);
  }
  // A known path with another method: 405 with Allow, after authentication where the path needs it.
  for (const [path, methods] of methodsOf) {
    const auth = routes.some((r) => r.path === path && r.auth);
    app.all(path, (_req: Request, res: Response) =>
      pipeline.run(
        {
          method: '*',
          path,
          op: 'other',
          auth,
          handle: () => {
            throw new MethodNotAllowedError(methods, path);
          },
        },
        ctxOf(res),
      ),
    );
  }
  app.use((_req: Request, res: Response) => {
    const ctx = ctxOf(res);
    pipeline.answer(ctx, outcomeOf(new SecretGatewayError('not_found', 'no such route'), ctx.id));
  });
  // Anything Express itself failed on (a malformed URL, say): a 4xx as invalid_request, else a bug.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    const ctx = ctxOf(res);
    const status = (error as { status?: unknown }).status;
    const typed =
      typeof status === 'number' && status >= 400 && status < 500
        ? new InvalidRequestError('malformed request')
        : error;
    pipeline.answer(ctx, outcomeOf(typed, ctx.id));
  });

  const hot = routes.find((r) => r.method === 'GET' && r.path === '/secrets') as Route;
  return (req, res) =>
    pipeline.begin(req, res, (ctx) => {
      if (req.method === 'GET' && req.url?.startsWith('/secrets?')) pipeline.run(hot, ctx);
      else app(req, res);
    });
}
