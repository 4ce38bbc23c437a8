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
  'RequestLimitExceeded',
  'RequestThrottled',
]);
// AWS did not accept who we are (AccessDeniedException: who we are may not do this).
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'IncompleteSignature',
  'InvalidClientTokenId',
]);
const DENIED = new Set(['AccessDeniedException', 'CredentialsProviderError', ...BAD_CREDENTIALS]);
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

/** Where an AWS failure came from, for the operator's log: the error name or status, never its text. */
const detailOf = (operation: string, error: unknown) => {
  const name = nameOf(error);
  const status = statusOf(error);
  // No HTTP answer: the socket's code (ECONNREFUSED) says more than the class name `Error`.
  const net = (error as { code?: unknown })?.code;
  const code =
    status === undefined && typeof net === 'string' && /^[A-Z][A-Z0-9_]{0,40}$/.test(net)
      ? net
      : /^[A-Za-z][A-Za-z0-9_.]{0,63}$/.test(name)
        ? name
        : status === undefined
          ? undefined
          : String(status);
  return { backend: 'aws', operation, ...(code ? { backendCode: code } : {}) };
};

/** Operator words for errors that come from the SDK's own credential chain, not from AWS. */
const NO_CREDENTIALS = new Set(['CredentialsProviderError']);

/**
 * The one place an AWS error becomes one of core's typed errors. Messages are the adapter's words,
 * the operation and the error's name: AWS's own text names the IAM principal's ARN and account id.
 */
export function mapAwsError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const name = nameOf(error);
  const status = statusOf(error);
  const options = { cause: error, detail: detailOf(what, error) };
  const code = options.detail.backendCode ?? 'no code';
  if (name === 'ResourceExistsException')
    return new VersionConflictError(`AWS ${what}: another writer created this first`, options);
  // AWS sends no Retry-After; one second is what its SDK waits before a throttled retry, at most.
  if (THROTTLING.has(name) || status === 429)
    return new BackendUnavailableError('throttled', `AWS throttled ${what} (${code})`, {
      ...options,
      retryAfterSeconds: 1,
    });
  // A quota that a retry in a second does not lift (PutSecretValue's version quota is answered in
  // calls.ts with the time it lasts; secrets per region, staging labels per secret: an operator's fix).
  if (name === 'LimitExceededException')
    return new BackendError(
      'invalid',
      `AWS refused ${what}: a Secrets Manager quota is full (${code}); see docs/backends/aws.md`,
      options,
    );
  if (NO_CREDENTIALS.has(name))
    return new BackendError(
      'denied',
      `AWS ${what}: no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role (${code})`,
      options,
    );
  if (BAD_CREDENTIALS.has(name))
    return new BackendError(
      'denied',
      `AWS refused the credentials for ${what} (${code}): check the access key, secret key or role`,
      options,
    );
  if (DENIED.has(name) || status === 403)
    return new BackendError('denied', `AWS denied ${what} (${code}): check the IAM policy`, options);
  if (KMS.has(name))
    return new BackendError(
      'denied',
      `AWS ${what}: KMS refused the key (${code}); check its key policy`,
      options,
    );
  if (name === 'AbortError' || name === 'TimeoutError')
    return new BackendUnavailableError('timeout', `AWS ${what}: timed out`, options);
  if (name === 'InternalServiceError' || (status !== undefined && status >= 500))
    return new BackendUnavailableError('server_error', `AWS ${what}: ${status ?? 500} ${code}`, options);
  // No HTTP answer at all: connection refused or reset, DNS, TLS.
  if (status === undefined) {
    const net = (error as { code?: unknown })?.code;
    const why = typeof net === 'string' && /^[A-Z][A-Z0-9_]{0,40}$/.test(net) ? ` (${net})` : '';
    return new BackendUnavailableError('unreachable', `AWS ${what}: not reachable${why}`, options);
  }
  if (INVALID.has(name))
    return new BackendError('invalid', `AWS refused ${what} as invalid (${code})`, options);
  return new BackendError('unexpected', `AWS ${what}: unexpected ${status} (${code})`, options);
}
