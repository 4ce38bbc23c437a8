import type { SecretService } from '@secret-gateway/core';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit.ts';
import { errorOutcome, type Outcome, readinessMessage } from '../http-errors.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { Route } from '../pipeline.ts';
import { PreparedJson } from '../respond.ts';

/** The operational endpoints: no credentials, no secrets, no audit lines. */
export interface OpsDeps {
  service: SecretService;
  logger: Logger;
  metrics?: GatewayMetrics;
  audit?: AuditLog;
  /** False while draining at shutdown: /readyz answers 503 so load balancers stop sending. */
  isAccepting?: () => boolean;
  /** The OpenAPI document, serialised once. */
  openapi: string;
}

const op = (path: string, handle: Route['handle']): Route => ({
  method: 'GET',
  path,
  op: 'other',
  auth: false,
  handle,
});

export function opsRoutes(deps: OpsDeps): Route[] {
  const { service, logger, metrics, audit } = deps;
  // The readiness cause is logged when it changes, not on every probe.
  let lastCause: string | undefined;
  const report = (cause: string | undefined) => {
    if (cause === lastCause) return;
    if (cause === undefined) logger.info({ backend: service.adapter.name }, 'ready');
    else logger.warn({ backend: service.adapter.name, cause }, 'not ready');
    lastCause = cause;
  };

  const notReady = (cause: string): Outcome => {
    report(cause);
    return errorOutcome(503, 'backend_unavailable', cause, 1);
  };

  const readyz = async (): Promise<Outcome> => {
    if (deps.isAccepting && !deps.isAccepting()) return notReady('gateway is shutting down');
    if (audit?.failClosed && !audit.writable) {
      return notReady('the audit trail cannot be written and the gateway is in fail-closed mode');
    }
    try {
      await service.check();
    } catch (error) {
      return notReady(readinessMessage(service.adapter.name, error));
    }
    report(undefined);
    return { status: 200, body: { status: 'ready', backend: service.adapter.name } };
  };

  const routes = [
    op('/healthz', () => ({ status: 200, body: { status: 'ok' } })),
    op('/readyz', readyz),
    op('/openapi.json', () => ({ status: 200, body: new PreparedJson(deps.openapi) })),
  ];
  if (metrics) {
    routes.push(
      op('/metrics', async () => ({
        status: 200,
        body: await metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
      })),
    );
  }
  return routes;
}
