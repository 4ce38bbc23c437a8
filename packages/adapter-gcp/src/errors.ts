import { BackendError, BackendUnavailableError, SecretGatewayError } from '@secret-gateway/core';

export const grpcCode = (error: unknown) => (error as { code?: unknown })?.code;

/** gRPC status codes the adapter acts on. */
export const NOT_FOUND = 5;
export const ALREADY_EXISTS = 6;
export const FAILED_PRECONDITION = 9;

/** The one place a Secret Manager (gRPC) error becomes one of core's typed errors. */
export function mapGcpError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const code = grpcCode(error);
  const details =
    (error as { details?: string })?.details ?? (error instanceof Error ? error.message : String(error));
  switch (code) {
    case 8:
      return new BackendUnavailableError('throttled', `GCP throttled ${what} (RESOURCE_EXHAUSTED)`, {
        cause: error,
        retryAfterSeconds: 1,
      });
    case 1: // CANCELLED (our deadline)
    case 4:
      return new BackendUnavailableError('timeout', `GCP ${what}: deadline exceeded`, { cause: error });
    case 14:
      return new BackendUnavailableError('unreachable', `GCP ${what}: unavailable (${details})`, {
        cause: error,
      });
    case 13:
    case 2:
      return new BackendUnavailableError('server_error', `GCP ${what}: ${details}`, { cause: error });
    case 7:
    case 16:
      return new BackendError(
        'denied',
        `GCP denied ${what}: check the service account's roles (${details})`,
        { cause: error },
      );
    case 3:
      return new BackendError('invalid', `GCP refused ${what} as invalid: ${details}`, { cause: error });
    default:
      return new BackendError('unexpected', `GCP ${what}: ${details}`, { cause: error });
  }
}
