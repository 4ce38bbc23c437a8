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

  set(spec: FaultSpec): void {
    this.#spec = spec;
    this.#left = spec.times ?? Number.POSITIVE_INFINITY;
  }

  clear(): void {
    this.#spec = undefined;
  }

  /** The fault for this request, if any; consumes one of `times`. */
  take(operation: string): FaultSpec | undefined {
    const spec = this.#spec;
    if (!spec || (spec.match !== undefined && !operation.includes(spec.match))) return undefined;
    if (--this.#left <= 0) this.#spec = undefined;
    this.injected++;
    return spec;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
