import type { BackendCallEvent, CacheResult } from '@secret-gateway/core';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics. Labels are fixed sets (route, method, status, adapter, operation, outcome): never a path or a value. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'sgw_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'sgw_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['route', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly backendCalls = new Counter({
    name: 'sgw_backend_calls_total',
    help: 'Backend calls by adapter, operation and outcome',
    labelNames: ['adapter', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly backendDuration = new Histogram({
    name: 'sgw_backend_call_duration_seconds',
    help: 'Backend call latency',
    labelNames: ['adapter', 'operation'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'sgw_auth_failures_total',
    help: 'Requests refused for a missing or wrong auth header',
    registers: [this.registry],
  });

  readonly cacheEvents = new Counter({
    name: 'sgw_cache_reads_total',
    help: 'Cached reads by result: hit, miss, coalesced (joined a load in flight), stale (served during a backend failure)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Label children looked up once: prom-client hashes label sets on every call otherwise. */
  readonly #requestChildren = new Map<
    string,
    { count: { inc: () => void }; time: { observe: (v: number) => void } }
  >();

  constructor(collectDefaults = true) {
    if (collectDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'sgw_' });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let child = this.#requestChildren.get(key);
    if (!child) {
      child = {
        count: this.requests.labels({ route, method, status: String(status) }),
        time: this.duration.labels({ route, method }),
      };
      this.#requestChildren.set(key, child);
    }
    child.count.inc();
    child.time.observe(seconds);
  }

  observeCache = (result: CacheResult): void => {
    this.cacheEvents.inc({ result });
  };

  observeBackend = (event: BackendCallEvent): void => {
    this.backendCalls.inc({ adapter: event.adapter, operation: event.operation, outcome: event.outcome });
    this.backendDuration.observe(
      { adapter: event.adapter, operation: event.operation },
      event.durationMs / 1000,
    );
  };
}
