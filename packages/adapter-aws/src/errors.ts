import {
  BackendError,
  BackendUnavailableError,
  SecretGatewayError,
  VersionConflictError,
} from '@secret-gateway/core';

/**
 * The one place an AWS SDK error becomes one of core's typed errors. The SDK error stays the `cause`,
 * so callers can still turn a definite answer (ResourceNotFoundException, "marked for deletion") into
 * a result with awsErrorName(). AWS messages name secrets and actions, never values.
 */
const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
]);
const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'CredentialsProviderError',
]);
// KMS refusing to encrypt or decrypt is almost always a key policy or grant missing.
const KMS = new Set(['DecryptionFailure', 'EncryptionFailure']);
const INVALID = new Set([
  'InvalidParameterException',
  'InvalidRequestException',
  'ValidationException',
  'MalformedPolicyDocumentException',
]);

const nameOf = (error: unknown) => String((error as { name?: unknown })?.name ?? '');
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const statusOf = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/** The AWS error name behind an error the adapter threw ('' for anything else). */
export function awsErrorName(error: unknown): string {
  return nameOf(SecretGatewayError.isInstance(error) ? error.cause : error);
}

export const isNotFound = (error: unknown) => awsErrorName(error) === 'ResourceNotFoundException';

/** "...marked for deletion" / "...already scheduled for deletion": the secret is being deleted. */
export function isMarkedForDeletion(error: unknown): boolean {
  const cause = SecretGatewayError.isInstance(error) ? error.cause : error;
  return nameOf(cause) === 'InvalidRequestException' && /deletion|deleted/i.test(messageOf(cause));
}

export function mapAwsError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const name = nameOf(error);
  const status = statusOf(error);
  const detail = `${name}: ${messageOf(error)}`;
  if (name === 'ResourceExistsException')
    return new VersionConflictError(`AWS ${what}: another writer created this first`, { cause: error });
  // AWS sends no Retry-After; one second is what its SDK waits before a throttled retry, at most.
  if (THROTTLING.has(name) || status === 429)
    return new BackendUnavailableError('throttled', `AWS throttled ${what} (${name})`, {
      cause: error,
      retryAfterSeconds: 1,
    });
  if (DENIED.has(name) || status === 403)
    return new BackendError('denied', `AWS denied ${what}: check the IAM policy (${detail})`, {
      cause: error,
    });
  if (KMS.has(name))
    return new BackendError('denied', `AWS ${what}: KMS refused the key; check its key policy (${detail})`, {
      cause: error,
    });
  if (name === 'AbortError' || name === 'TimeoutError')
    return new BackendUnavailableError('timeout', `AWS ${what}: timed out`, { cause: error });
  if (name === 'InternalServiceError' || (status !== undefined && status >= 500))
    return new BackendUnavailableError('server_error', `AWS ${what}: ${status ?? 500} ${name}`, {
      cause: error,
    });
  // No HTTP answer at all: connection refused or reset, DNS, TLS.
  if (status === undefined)
    return new BackendUnavailableError('unreachable', `AWS ${what}: ${messageOf(error)}`, { cause: error });
  if (INVALID.has(name))
    return new BackendError('invalid', `AWS refused ${what} as invalid (${detail})`, { cause: error });
  return new BackendError('unexpected', `AWS ${what}: ${status} ${detail}`, { cause: error });
}
