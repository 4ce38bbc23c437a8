/**
 * Fault injection shared by every emulator. Tests set a fault, drive the SDK or the gateway into it,
 * then clear it. A fault can be limited to a number of requests and to operations whose name
 * (AWS target, GCP method, Vault/Azure "METHOD /path") contains `match`.
 */
export interface FaultSpec {
  /** Added delay before answering, in ms. */
  latencyMs?: number;
  /** Answer with the service's own throttling error (Vault 429, AWS ThrottlingException, GCP RESOURCE_EXHAUSTED, Azure 429). */
  throttle?: boolean;
  /** Seconds for a Retry-After header on throttling answers, where the service sends one. */
  retryAfterSeconds?: number;
  /** Answer with this server-error status (HTTP 5xx; GCP maps it to UNAVAILABLE/INTERNAL). */
  status?: number;
  /** Destroy the connection without answering. */
  drop?: boolean;
  /** Apply to this many matching requests, then clear itself. Unset = until cleared. */
  times?: number;
  /** Only requests whose operation name contains this string. */
  match?: string;
}

export class FaultInjector {
  #spec: FaultSpec | undefined;
  #left = Number.POSITIVE_INFINITY;
  /** Requests answered with a fault since start (for tests). */
  injected = 0;
  /** Every request seen, by operation name (AWS target, GCP method, Vault/Azure "METHOD /path"). */
  readonly requests = new Map<string, number>();
  /** Standing latency of every request, and per-operation overrides (first substring match wins). */
  #latency: { baseMs: number; byOperation: Array<[string, number]> } = { baseMs: 0, byOperation: [] };

  /**
   * A latency the real service always has (unlike a fault, it never clears itself): `baseMs` for
   * every request, or the override of the first `byOperation` key the operation name contains.
   */
  setLatency(baseMs: number, byOperation: Record<string, number> = {}): void {
    this.#latency = { baseMs, byOperation: Object.entries(byOperation) };
  }

  latencyFor(operation: string): number {
    for (const [match, ms] of this.#latency.byOperation) if (operation.includes(match)) return ms;
    return this.#latency.baseMs;
  }

  /** Requests seen whose operation name contains `match` (all of them without one). */
  count(match = ''): number {
    let total = 0;
    for (const [operation, n] of this.requests) if (operation.includes(match)) total += n;
    return total;
  }

  resetCounts(): void {
    this.requests.clear();
  }

  set(spec: FaultSpec): void {
    this.#spec = spec;
    this.#left = spec.times ?? Number.POSITIVE_INFINITY;
  }

  clear(): void {
    this.#spec = undefined;
  }

  /** Counts the request; the fault for it, if any (consumes one of `times`). */
  take(operation: string): FaultSpec | undefined {
    this.requests.set(operation, (this.requests.get(operation) ?? 0) + 1);
    const spec = this.#spec;
    if (!spec || (spec.match !== undefined && !operation.includes(spec.match))) return undefined;
    if (--this.#left <= 0) this.#spec = undefined;
    this.injected++;
    return spec;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A quota over a sliding window, as the real services enforce theirs (Azure: 4,000 transactions per
 * 10 s per vault; GCP: 600 reads per minute per project). `take()` is false once the window is full.
 */
export class WindowQuota {
  readonly #times: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly now: () => number = Date.now,
  ) {}

  take(): boolean {
    const t = this.now();
    while (this.#times.length > 0 && (this.#times[0] as number) <= t - this.windowMs) this.#times.shift();
    if (this.#times.length >= this.limit) return false;
    this.#times.push(t);
    return true;
  }

  /** Milliseconds until the oldest request in the window leaves it. */
  retryAfterMs(): number {
    const oldest = this.#times[0];
    return oldest === undefined ? 0 : Math.max(0, oldest + this.windowMs - this.now());
  }
}
