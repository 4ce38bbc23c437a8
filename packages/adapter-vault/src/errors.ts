import {
  BackendError,
  BackendUnavailableError,
  SecretGatewayError,
  VersionConflictError,
} from '@secret-gateway/core';
import { RETRY_AFTER } from './client.ts';

interface VaultResponseError {
  response?: { statusCode?: unknown; body?: unknown };
}

/** node-vault's ApiResponseError is not exported: read the status from `error.response`. */
export function vaultStatus(error: unknown): number | undefined {
  const status = (error as VaultResponseError)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A definite "nothing there": 404 with Vault's empty `{"errors":[]}`, or the 404 Vault gives for a
 * deleted or destroyed version (its body carries the version's metadata). A 404 with an error
 * message ("no handler for route": no KV v2 engine at that mount) is a configuration problem.
 */
export function isNotFound(error: unknown): boolean {
  if (vaultStatus(error) !== 404) return false;
  const body = (error as VaultResponseError).response?.body as { errors?: unknown; data?: unknown };
  if (body?.data !== undefined) return true;
  return Array.isArray(body?.errors) && body.errors.length === 0;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** The one place a Vault failure becomes one of core's typed errors. Never includes a value. */
export function mapVaultError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const status = vaultStatus(error);
  const message = error instanceof Error ? error.message : String(error);
  if (status === undefined) {
    const code = (error as { code?: unknown })?.code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) {
      return new BackendUnavailableError(
        code === 'ETIMEDOUT' ? 'timeout' : 'unreachable',
        `Vault ${what}: ${code}`,
        { cause: error },
      );
    }
    return new BackendError('unexpected', `Vault ${what}: ${message}`, { cause: error });
  }
  const body = (error as VaultResponseError).response?.body as Record<symbol, unknown> | undefined;
  const retryAfter = typeof body?.[RETRY_AFTER] === 'number' ? (body[RETRY_AFTER] as number) : undefined;
  if (status === 400 && message.includes('check-and-set parameter did not match')) {
    return new VersionConflictError(`Vault ${what}: another writer created this version first`, {
      cause: error,
    });
  }
  if (status === 401 || status === 403) {
    return new BackendError('denied', `Vault denied ${what} (${status}): check the token's policy`, {
      cause: error,
    });
  }
  if (status === 404) {
    return new BackendError('invalid', `Vault ${what}: ${message} (is a KV v2 engine mounted there?)`, {
      cause: error,
    });
  }
  if (status === 412) {
    // A performance standby that has not caught up with a write yet: transient.
    return new BackendUnavailableError('server_error', `Vault ${what}: 412 ${message}`, {
      cause: error,
      retryAfterSeconds: retryAfter,
    });
  }
  if (status === 429) {
    return new BackendUnavailableError('throttled', `Vault throttled ${what} (429)`, {
      cause: error,
      retryAfterSeconds: retryAfter,
    });
  }
  if (status >= 500) {
    return new BackendUnavailableError('server_error', `Vault ${what}: ${status} ${message}`, {
      cause: error,
      retryAfterSeconds: retryAfter,
    });
  }
  return new BackendError('unexpected', `Vault ${what}: ${status} ${message}`, { cause: error });
}

/** A failed login: wrong credentials are a configuration problem (denied), not "unexpected". */
export function mapLoginError(error: unknown, method: string): SecretGatewayError {
  const status = vaultStatus(error);
  if (status === 400 || status === 401 || status === 403) {
    return new BackendError(
      'denied',
      `Vault ${method} login refused (${status}): check the role and its credentials`,
      {
        cause: error,
      },
    );
  }
  if (status === 404) {
    return new BackendError('invalid', `Vault ${method} login: no auth method at that mount (404)`, {
      cause: error,
    });
  }
  return mapVaultError(error, `${method} login`);
}
