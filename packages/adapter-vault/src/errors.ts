import {
  BackendError,
  BackendUnavailableError,
  SecretGatewayError,
  VersionConflictError,
} from '@secret-gateway/core';

/** node-vault's ApiResponseError is not exported: read the status from `error.response`. */
export function vaultStatus(error: unknown): number | undefined {
  const status = (error as { response?: { statusCode?: unknown } })?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_BAD_RESPONSE',
  'ERR_CANCELED',
]);

/** The one place a Vault failure becomes one of core's typed errors. */
export function mapVaultError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const status = vaultStatus(error);
  const message = error instanceof Error ? error.message : String(error);
  if (status === undefined) {
    const code = (error as { code?: unknown })?.code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) {
      return new BackendUnavailableError(
        code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timeout' : 'unreachable',
        `Vault ${what}: ${code}`,
        { cause: error },
      );
    }
    return new BackendError('unexpected', `Vault ${what}: ${message}`, { cause: error });
  }
  if (status === 400 && message.includes('check-and-set parameter did not match')) {
    return new VersionConflictError(`Vault ${what}: another writer created this version first`, {
      cause: error,
    });
  }
  if (status === 401 || status === 403)
    return new BackendError('denied', `Vault denied ${what} (${status}): check the token's policy`, {
      cause: error,
    });
  if (status === 429) {
    // node-vault does not pass response headers on, so Vault's Retry-After is not visible here.
    return new BackendUnavailableError('throttled', `Vault throttled ${what} (429)`, { cause: error });
  }
  if (status >= 500)
    return new BackendUnavailableError('server_error', `Vault ${what}: ${status} ${message}`, {
      cause: error,
    });
  return new BackendError('unexpected', `Vault ${what}: ${status} ${message}`, { cause: error });
}
