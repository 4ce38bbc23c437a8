import {
  BackendError,
  BackendUnavailableError,
  SecretGatewayError,
  VersionConflictError,
} from '@secret-gateway/core';

interface AzureErrorShape {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  response?: { headers?: { get(name: string): string | undefined } };
}

const shape = (error: unknown) => (error ?? {}) as AzureErrorShape;
export const statusOf = (error: unknown) => shape(error).statusCode;
export const isNotFound = (error: unknown) => statusOf(error) === 404;
export const isConflict = (error: unknown) => statusOf(error) === 409;
/** 403 on a disabled version (Key Vault's SecretDisabled); RBAC denials are 403 too, with other text. */
export const isDisabled = (error: unknown) =>
  statusOf(error) === 403 && /disabled/i.test(shape(error).message ?? '');
export const isForbidden = (error: unknown) => statusOf(error) === 403;

function retryAfter(error: unknown): number {
  const header = shape(error).response?.headers?.get('retry-after');
  const seconds = header === undefined ? Number.NaN : Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 1;
}

/** The one place an Azure SDK error (RestError, AbortError, network error) becomes a typed error. */
export function mapAzureError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const { name, statusCode: status, code } = shape(error);
  const label = `Azure Key Vault ${what}`;
  if (name === 'AbortError')
    return new BackendUnavailableError('timeout', `${label}: cut off at the deadline`, { cause: error });
  if (status === undefined)
    // No HTTP answer at all: connection refused or reset, DNS, TLS.
    return new BackendUnavailableError('unreachable', `${label}: ${code ?? name ?? 'no answer'}`, {
      cause: error,
    });
  if (status === 429)
    return new BackendUnavailableError('throttled', `${label}: throttled (429)`, {
      cause: error,
      retryAfterSeconds: retryAfter(error),
    });
  if (status === 408 || status === 504)
    return new BackendUnavailableError('timeout', `${label}: ${status}`, { cause: error });
  if (status >= 500)
    return new BackendUnavailableError('server_error', `${label}: ${status} ${code ?? ''}`.trim(), {
      cause: error,
    });
  if (status === 401 || status === 403)
    return new BackendError(
      'denied',
      `${label}: ${status} ${code ?? ''}: check the identity's role (Key Vault Secrets Officer)`,
      { cause: error },
    );
  if (status === 409)
    return new VersionConflictError(`${label}: 409 ${code ?? ''}, the secret is busy`, { cause: error });
  if (status === 400)
    return new BackendError('invalid', `${label}: 400 ${code ?? ''}`.trim(), { cause: error });
  return new BackendError('unexpected', `${label}: ${status} ${code ?? ''}`.trim(), { cause: error });
}
