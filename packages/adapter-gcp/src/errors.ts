import { BackendError, BackendUnavailableError, SecretGatewayError } from '@secret-gateway/core';

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
        retryAfterSeconds: retryDelaySeconds(options.cause) ?? 1,
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
