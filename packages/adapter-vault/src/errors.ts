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

/** Where a Vault failure came from, for the operator's log: codes only, never Vault's own text. */
const detailOf = (operation: string, backendCode: string | undefined) => ({
  backend: 'vault',
  operation,
  ...(backendCode ? { backendCode } : {}),
});

/** A Node error code such as ECONNREFUSED, never free text. */
const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,40}$/.test(code) ? code : undefined;
};

/**
 * The one place a Vault failure becomes one of core's typed errors. Messages are the adapter's own
 * words with the operation and the status: Vault's error text can quote the request, so it stays out.
 */
export function mapVaultError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const status = vaultStatus(error);
  if (status === undefined) {
    const code = codeOf(error);
    const options = { cause: error, detail: detailOf(what, code ?? nameOf(error)) };
    if (code !== undefined && CONNECTION_CODES.has(code)) {
      return new BackendUnavailableError(
        code === 'ETIMEDOUT' ? 'timeout' : 'unreachable',
        `Vault ${what}: ${code === 'ETIMEDOUT' ? 'no answer in time' : `not reachable (${code})`}`,
        options,
      );
    }
    return new BackendError('unexpected', `Vault ${what} failed without an HTTP answer`, options);
  }
  const options = { cause: error, detail: detailOf(what, String(status)) };
  const body = (error as VaultResponseError).response?.body as Record<symbol, unknown> | undefined;
  const retryAfter = typeof body?.[RETRY_AFTER] === 'number' ? (body[RETRY_AFTER] as number) : undefined;
  if (status === 400 && errorTexts(error).some((t) => t.includes('check-and-set parameter did not match'))) {
    return new VersionConflictError(`Vault ${what}: another writer created this version first`, options);
  }
  if (status === 401 || status === 403) {
    return new BackendError(
      'denied',
      `Vault denied ${what} (${status}): check the token and its policy`,
      options,
    );
  }
  if (status === 404) {
    return new BackendError(
      'invalid',
      `Vault ${what}: 404, no KV v2 engine at the configured mount`,
      options,
    );
  }
  if (status === 412) {
    // A performance standby that has not caught up with a write yet: transient.
    return new BackendUnavailableError('server_error', `Vault ${what}: 412, standby not caught up`, {
      ...options,
      retryAfterSeconds: retryAfter,
    });
  }
  if (status === 429) {
    return new BackendUnavailableError('throttled', `Vault throttled ${what} (429)`, {
      ...options,
      retryAfterSeconds: retryAfter,
    });
  }
  if (status >= 500) {
    const cause = status === 503 ? 'sealed or unavailable' : 'server error';
    return new BackendUnavailableError('server_error', `Vault ${what}: ${status}, ${cause}`, {
      ...options,
      retryAfterSeconds: retryAfter,
    });
  }
  return new BackendError('unexpected', `Vault ${what}: unexpected ${status}`, options);
}

const nameOf = (error: unknown) =>
  error instanceof Error && /^[A-Za-z]{1,40}$/.test(error.name) ? error.name : undefined;

/** Vault's `errors` strings of a failed answer, for matching only (never for messages). */
export function errorTexts(error: unknown): string[] {
  const errors = ((error as VaultResponseError)?.response?.body as { errors?: unknown })?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
}

/** A failed login: wrong credentials are a configuration problem (denied), not "unexpected". */
export function mapLoginError(error: unknown, method: string): SecretGatewayError {
  const status = vaultStatus(error);
  const options = {
    cause: error,
    detail: detailOf(`${method} login`, status === undefined ? undefined : String(status)),
  };
  if (status === 400 || status === 401 || status === 403) {
    return new BackendError(
      'denied',
      `Vault ${method} login refused (${status}): check the role and its credentials`,
      options,
    );
  }
  if (status === 404) {
    return new BackendError('invalid', `Vault ${method} login: no auth method at that mount (404)`, options);
  }
  return mapVaultError(error, `${method} login`);
}
