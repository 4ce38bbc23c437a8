import type { GroupService } from '@secret-gateway/groups';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit.ts';
import { errorOutcome, type Outcome, readinessMessage } from '../http-errors.ts';
import type { Integrations } from '../integrations.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { Route } from '../pipeline.ts';
import { PreparedJson } from '../respond.ts';

/** The operational endpoints: no credentials, no secrets, no audit lines. */
export interface OpsDeps {
  integrations: Integrations;
  /** The secret-groups metadata store, checked by /readyz. */
  groups?: GroupService;
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
  const { integrations, logger, metrics, audit } = deps;
  const backend = integrations.default.service.adapter.name;
  // The readiness cause is logged when it changes, not on every probe.
  let lastCause: string | undefined;
  const report = (cause: string | undefined) => {
    if (cause === lastCause) return;
    if (cause === undefined) logger.info({ backend }, 'ready');
    else logger.warn({ backend, cause }, 'not ready');
    lastCause = cause;
  };

  const notReady = (cause: string): Outcome => {
    report(cause);
    return errorOutcome(503, 'backend_unavailable', cause, 1);
  };

  const readyz = async (): Promise<Outcome> => {
    if (deps.isAccepting && !deps.isAccepting()) return notReady('gateway is shutting down');
    // retry() also lets an idle gateway notice that the disk has room again.
    if (audit?.failClosed && !(await audit.retry())) {
      const code = (audit.lastError as { code?: string } | undefined)?.code;
      return notReady(
        `the audit trail cannot be written${code ? ` (${code})` : ''} and the gateway is in fail-closed mode`,
      );
    }
    // Every integration, checked at once; the first failing one (in configuration order) is the cause.
    const checks = await Promise.all(
      integrations.all.map((i) =>
        i.service.check().then(
          () => undefined,
          (error: unknown) =>
            readinessMessage(integrations.single ? i.service.adapter.name : `integration ${i.id}`, error),
        ),
      ),
    );
    const failed = checks.find((c) => c !== undefined);
    if (failed) return notReady(failed);
    if (deps.groups) {
      try {
        await deps.groups.store.check();
      } catch (error) {
        return notReady(readinessMessage(`secret-groups store (${deps.groups.store.name})`, error));
      }
    }
    report(undefined);
    const body: Record<string, unknown> = { status: 'ready', backend };
    if (!integrations.single) {
      body.integrations = Object.fromEntries(
        integrations.all.map((i, n) => [
          i.id,
          { backend: i.service.adapter.name, status: checks[n] ?? 'ready' },
        ]),
      );
    }
    return { status: 200, body };
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
