import { BackendError, BackendUnavailableError, SecretGatewayError } from '@secret-gateway/core';
import type { GcpAdapterOptions } from './config.ts';

/** gRPC status codes (google.rpc.Code) the adapter reads. */
export const Code = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const GRPC_CODE = Symbol('grpcCode');

/** The gRPC code behind an error thrown by the adapter's calls (undefined for anything else). */
export function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as { [GRPC_CODE]?: unknown })?.[GRPC_CODE];
  return typeof code === 'number' ? code : undefined;
}

/** Seconds from a google.rpc.RetryInfo detail, when the service sent one. */
function retryDelaySeconds(error: unknown): number | undefined {
  const details = (error as { statusDetails?: unknown })?.statusDetails;
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    const delay = (d as { retryDelay?: { seconds?: unknown; nanos?: unknown } })?.retryDelay;
    if (delay) return Number(delay.seconds ?? 0) + Number(delay.nanos ?? 0) / 1e9;
  }
  return undefined;
}

/**
 * Retry-After for a per-minute quota GCP refused without RetryInfo. Google's quota errors say which
 * quota ran out (ErrorInfo reason RATE_LIMIT_EXCEEDED, metadata quota_limit such as
 * "ReadRequestsPerMinutePerProject") but not when it refills, and a minute window refills as the
 * oldest requests of it age out: 1 s would send every client back ~60 times into a spent minute.
 * Half the window lets a rolling window free part of itself before the retry while keeping a client
 * to two tries a minute.
 */
export const PER_MINUTE_RETRY_SECONDS = 30;

/** The ErrorInfo of a RESOURCE_EXHAUSTED names a per-minute quota (or GCP said it in words). */
function perMinuteQuota(error: unknown): boolean {
  const e = error as { statusDetails?: unknown; errorInfoMetadata?: Record<string, unknown> };
  const infos = [
    ...(Array.isArray(e?.statusDetails) ? e.statusDetails : []),
    { metadata: e?.errorInfoMetadata },
  ];
  for (const info of infos as Array<{ metadata?: Record<string, unknown> }>) {
    if (/PerMinute/i.test(String(info?.metadata?.quota_limit ?? ''))) return true;
  }
  return /per minute/i.test(String((error as { details?: unknown })?.details ?? ''));
}

/**
 * CreateSecret's FAILED_PRECONDITION: an organisation policy on resource locations refused the
 * replication (GCP: "Constraint constraints/gcp.resourceLocations violated ... attempting to create a
 * secret in [global]"). Told in the gateway's words, naming the setting that fixes it.
 */
export function locationRefused(options: GcpAdapterOptions, error: unknown): BackendError {
  const locations = options.replication?.locations ?? [];
  const what = locations.length
    ? `a region of SGW_GCP_REPLICATION_LOCATIONS (${locations.join(', ')})`
    : 'automatic (global) replication';
  return new BackendError(
    'invalid',
    `GCP refused to create the secret (FAILED_PRECONDITION): the organisation's location policy (constraints/gcp.resourceLocations) refuses ${what}; set SGW_GCP_REPLICATION_LOCATIONS to regions it allows`,
    { cause: error, detail: (error as BackendError).detail },
  );
}

/** google.rpc.Code names, for the operator's log and messages. */
const CODE_NAMES = Object.fromEntries(Object.entries(Code).map(([name, n]) => [n, name])) as Record<
  number,
  string
>;

/**
 * The one place a Secret Manager (gRPC) error becomes one of core's typed errors. The gRPC code stays
 * readable through grpcCodeOf() so callers can turn a definite NOT_FOUND or FAILED_PRECONDITION into
 * an answer. Messages are the adapter's words, the operation and the code name: GCP's `details` can
 * name the principal and quote the request, so they never reach a message.
 */
export function mapGcpError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const raw = (error as { code?: unknown })?.code;
  const code = typeof raw === 'number' ? raw : undefined;
  const codeName = code === undefined ? undefined : (CODE_NAMES[code] ?? String(code));
  const options = {
    cause: error,
    detail: { backend: 'gcp', operation: what, ...(codeName ? { backendCode: codeName } : {}) },
  };
  const mapped = toTyped(code, codeName ?? 'no gRPC status', what, options);
  Object.defineProperty(mapped, GRPC_CODE, { value: code, enumerable: false });
  return mapped;
}

type Options = { cause: unknown; detail: { backend: string; operation: string; backendCode?: string } };

function toTyped(code: number | undefined, name: string, what: string, options: Options): SecretGatewayError {
  switch (code) {
    case Code.RESOURCE_EXHAUSTED:
      return new BackendUnavailableError('throttled', `GCP throttled ${what} (RESOURCE_EXHAUSTED)`, {
        ...options,
        retryAfterSeconds:
          retryDelaySeconds(options.cause) ?? (perMinuteQuota(options.cause) ? PER_MINUTE_RETRY_SECONDS : 1),
      });
    case Code.CANCELLED: // cancelled at our deadline
    case Code.DEADLINE_EXCEEDED: // the RPC's deadline, or the SDK's bounded retries ran out
      return new BackendUnavailableError('timeout', `GCP ${what}: deadline exceeded`, options);
    case Code.UNAVAILABLE:
      return new BackendUnavailableError('unreachable', `GCP ${what}: unavailable (UNAVAILABLE)`, options);
    case Code.ABORTED: // concurrency conflict inside Secret Manager: retryable
      return new BackendUnavailableError('busy', `GCP ${what}: aborted (ABORTED)`, options);
    case Code.INTERNAL:
    case Code.UNKNOWN:
      return new BackendUnavailableError('server_error', `GCP ${what}: server error (${name})`, options);
    case Code.UNAUTHENTICATED:
      return new BackendError(
        'denied',
        `GCP refused the credentials for ${what} (UNAUTHENTICATED): check the service account key or workload identity`,
        options,
      );
    case Code.PERMISSION_DENIED:
      return new BackendError(
        'denied',
        `GCP denied ${what} (PERMISSION_DENIED): check GOOGLE_CLOUD_PROJECT and the service account's roles`,
        options,
      );
    case Code.INVALID_ARGUMENT:
      return new BackendError('invalid', `GCP refused ${what} as invalid (INVALID_ARGUMENT)`, options);
    default:
      return new BackendError('unexpected', `GCP ${what}: unexpected answer (${name})`, options);
  }
}
