import type { BackendCallEvent, CacheResult } from '@secret-gateway/core';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

/** Prometheus metrics. Labels are fixed sets (route, method, status, adapter, operation, outcome): never a path or a value. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new SeriesCounter(
    'sgw_http_requests_total',
    'HTTP requests by route, method and status',
    ['route', 'method', 'status'],
  );
  readonly duration = new SeriesHistogram(
    'sgw_http_request_duration_seconds',
    'HTTP request latency',
    ['route', 'method'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  readonly backendCalls = new SeriesCounter(
    'sgw_backend_calls_total',
    'Backend calls by adapter, operation and outcome',
    ['adapter', 'operation', 'outcome'],
  );
  readonly backendDuration = new SeriesHistogram(
    'sgw_backend_call_duration_seconds',
    'Backend call latency',
    ['adapter', 'operation'],
    [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  readonly authFailures = new Counter({
    name: 'sgw_auth_failures_total',
    help: 'Requests refused for a missing or wrong auth header',
    registers: [this.registry],
  });
  readonly authThrottled = new Counter({
    name: 'sgw_auth_throttled_total',
    help: 'Failed authentication attempts answered 429 because their client address is throttled',
    registers: [this.registry],
  });
  readonly authLockouts = new Counter({
    name: 'sgw_auth_lockouts_total',
    help: 'Times a client address was throttled after repeated failed authentication',
    registers: [this.registry],
  });
  readonly cacheEvents = new SeriesCounter(
    'sgw_cache_reads_total',
    'Cached reads by result: hit, miss, coalesced (joined a load in flight), stale (served during a backend failure)',
    ['result'],
  );

  constructor(collectDefaults = true) {
    for (const metric of [
      this.requests,
      this.duration,
      this.backendCalls,
      this.backendDuration,
      this.cacheEvents,
    ]) {
      this.registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
    }
    if (collectDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'sgw_' });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.series(route, method, String(status)).value++;
    this.duration.series(route, method).observe(seconds);
  }

  observeCache = (result: CacheResult): void => {
    this.cacheEvents.series(result).value++;
  };

  observeBackend = (event: BackendCallEvent): void => {
    this.backendCalls.series(event.adapter, event.operation, event.outcome).value++;
    this.backendDuration.series(event.adapter, event.operation).observe(event.durationMs / 1000);
  };
}

/** One series: its label values and its numbers. */
interface Series {
  readonly labels: Record<string, string>;
}

/**
 * Metrics whose series are looked up by label values through nested maps and then updated in
 * place; the Prometheus text is built only when scraped. prom-client's labelled metrics validate
 * and hash the label set on every update, which cost about 7 us of CPU per request here (docs/benchmarks.md).
 * The objects follow prom-client's metric interface (`get`, `reset`), so its Registry serves them.
 */
abstract class SeriesMetric<S extends Series> {
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';
  #root = new Map<string, unknown>();
  #all: S[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract create(labels: Record<string, string>): S;

  series(...values: string[]): S {
    let level = this.#root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i] as string) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(values[i] as string, next);
      }
      level = next;
    }
    let found = level.get(values[last] as string) as S | undefined;
    if (!found) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] as string;
      });
      found = this.create(labels);
      level.set(values[last] as string, found);
      this.#all.push(found);
    }
    return found;
  }

  protected get all(): readonly S[] {
    return this.#all;
  }

  reset(): void {
    this.#root = new Map();
    this.#all = [];
  }

  protected abstract values(): Array<{
    labels: Record<string, string | number>;
    value: number;
    metricName?: string;
  }>;

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: this.aggregator,
    };
  }
}

interface CounterSeries extends Series {
  value: number;
}

export class SeriesCounter extends SeriesMetric<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: Record<string, string>): CounterSeries {
    return { labels, value: 0 };
  }

  protected values() {
    return this.all.map((s) => ({ labels: s.labels, value: s.value }));
  }
}

class HistogramSeries implements Series {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly counts: Float64Array;

  constructor(
    readonly labels: Record<string, string>,
    readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

export class SeriesHistogram extends SeriesMetric<HistogramSeries> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected create(labels: Record<string, string>): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  protected values() {
    const out: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const s of this.all) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i] as number;
        out.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      out.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      out.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      out.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
