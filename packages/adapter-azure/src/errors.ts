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

/** An identifier such as `Forbidden` or `ECONNREFUSED`; anything else is dropped. */
const token = (text: string | undefined) =>
  text !== undefined && /^[A-Za-z][A-Za-z0-9_.]{0,63}$/.test(text) ? text : undefined;

/** Errors of @azure/identity: the gateway never got a token to present. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);

/** What the operator should check for the Entra ID errors a service principal meets most. */
const ENTRA_HINTS: Record<string, string> = {
  AADSTS7000215: 'AZURE_CLIENT_SECRET is wrong or expired (use the secret value, not its id)',
  AADSTS7000222: 'AZURE_CLIENT_SECRET has expired: create a new one',
  AADSTS700016: 'AZURE_CLIENT_ID is not an application in AZURE_TENANT_ID',
  AADSTS90002: 'AZURE_TENANT_ID names no tenant',
};

/**
 * The OAuth error and AADSTS code of an Entra ID refusal, read out of the identity error's text
 * (msal puts Entra's whole answer there); only these identifiers are kept, never the text around
 * them, which names the application and tenant.
 */
function entraRefusal(message: string | undefined) {
  const code = message?.match(/\bAADSTS\d{5,8}\b/)?.[0];
  if (!code) return undefined;
  const error =
    message?.match(
      /\b(invalid_client|unauthorized_client|invalid_request|invalid_grant|invalid_scope)\b/,
    )?.[0] ?? 'refused';
  return {
    code,
    error,
    hint: ENTRA_HINTS[code] ?? 'check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET',
  };
}

/**
 * The one place an Azure SDK error (RestError, AbortError, network error, identity error) becomes a
 * typed error. Messages are the adapter's words, the operation, the status and Key Vault's error
 * code: Key Vault's and Entra ID's message text can name the caller's identity and tenant.
 */
export function mapAzureError(error: unknown, what: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const { name, statusCode: status } = shape(error);
  const code = token(shape(error).code);
  const backendCode = code ?? (status === undefined ? token(name) : String(status));
  const options = {
    cause: error,
    detail: { backend: 'azure', operation: what, ...(backendCode ? { backendCode } : {}) },
  };
  const label = `Azure Key Vault ${what}`;
  const suffix = code ? ` ${code}` : '';
  if (name === 'AbortError')
    return new BackendUnavailableError('timeout', `${label}: cut off at the deadline`, options);
  if (name !== undefined && CREDENTIAL_ERRORS.has(name)) {
    const refusal = entraRefusal(shape(error).message);
    if (refusal)
      return new BackendError(
        'denied',
        `${label}: Entra ID refused the service principal (${refusal.error} ${refusal.code}): ${refusal.hint}`,
        { ...options, detail: { ...options.detail, backendCode: refusal.code } },
      );
    return new BackendError(
      'denied',
      `${label}: no Azure credential could get a token (${name}): set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET or run with a managed identity`,
      options,
    );
  }
  if (status === undefined)
    // No HTTP answer at all: connection refused or reset, DNS, TLS.
    return new BackendUnavailableError(
      'unreachable',
      `${label}: not reachable (${backendCode ?? 'no answer'})`,
      options,
    );
  if (status === 429)
    return new BackendUnavailableError('throttled', `${label}: throttled (429)`, {
      ...options,
      retryAfterSeconds: retryAfter(error),
    });
  if (status === 408 || status === 504)
    return new BackendUnavailableError('timeout', `${label}: ${status}`, options);
  if (status >= 500)
    return new BackendUnavailableError('server_error', `${label}: ${status}${suffix}`, options);
  if (status === 401)
    return new BackendError(
      'denied',
      `${label}: 401${suffix}: Key Vault refused the identity's token`,
      options,
    );
  if (status === 403)
    return new BackendError(
      'denied',
      `${label}: 403${suffix}: check the identity's role (Key Vault Secrets Officer)`,
      options,
    );
  if (status === 409) return new VersionConflictError(`${label}: 409${suffix}, the secret is busy`, options);
  if (status === 400) return new BackendError('invalid', `${label}: 400${suffix}`, options);
  return new BackendError('unexpected', `${label}: ${status}${suffix}`, options);
}
