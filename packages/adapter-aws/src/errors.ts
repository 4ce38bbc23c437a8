import {
  BackendError,
  BackendUnavailableError,
  SecretGatewayError,
  VersionConflictError,
} from '@secret-gateway/core';

export const errorName = (error: unknown) => (error as { name?: string })?.name ?? '';
export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
export const isNotFound = (error: unknown) => errorName(error) === 'ResourceNotFoundException';
export const isMarkedForDeletion = (error: unknown) =>
  errorName(error) === 'InvalidRequestException' && /deletion/.test(errorMessage(error));

const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestLimitExceeded',
]);
const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
]);

/** The one place an AWS SDK error becomes one of core's typed errors. */
export function mapAwsError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const name = errorName(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (name === 'ResourceExistsException')
    return new VersionConflictError(`AWS ${what}: another writer created this version first`, {
      cause: error,
    });
  if (THROTTLING.has(name))
    return new BackendUnavailableError('throttled', `AWS throttled ${what} (${name})`, {
      cause: error,
      retryAfterSeconds: 1,
    });
  if (DENIED.has(name))
    return new BackendError('denied', `AWS denied ${what} (${name}): check the IAM policy`, { cause: error });
  if (name === 'AbortError' || name === 'TimeoutError')
    return new BackendUnavailableError('timeout', `AWS ${what}: timed out`, { cause: error });
  if (status !== undefined && status >= 500)
    return new BackendUnavailableError('server_error', `AWS ${what}: ${status} ${name}`, { cause: error });
  if (status === undefined) {
    // No HTTP answer at all: connection refused, reset, DNS.
    return new BackendUnavailableError('unreachable', `AWS ${what}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return new BackendError('unexpected', `AWS ${what}: ${name} ${errorMessage(error)}`, { cause: error });
}
