/**
 * One error hierarchy for the whole gateway. Adapters throw these; the gateway maps `code` to an HTTP
 * status in one place. Messages must never contain a secret value: they name paths and versions only.
 */

const MARKER = Symbol.for('@secret-gateway/core/error');

export type ErrorCode =
  | 'invalid_request'
  | 'invalid_path'
  | 'invalid_version'
  | 'not_found'
  | 'already_exists'
  | 'unprocessable'
  | 'failed_dependency'
  | 'unauthorized'
  | 'forbidden'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'value_too_large'
  | 'payload_too_large'
  | 'rate_limited'
  | 'conflict'
  | 'backend_error'
  | 'backend_unavailable'
  | 'internal';

/**
 * Where a backend failure came from, for the operator's log (the gateway logs it at warn, joined by
 * request id). Built by the adapter's one error mapping from codes and statuses only: never a value,
 * never the backend's own message text (an AWS ValidationException can quote the request).
 */
export interface BackendDetail {
  /** Adapter name: `vault`, `aws`, `gcp`, `azure`, `sqlite`. */
  backend: string;
  /** What the adapter was doing: `read metadata`, `GetSecretValue`, `check`. */
  operation: string;
  /** The backend's own error code or status: `AccessDeniedException`, `PERMISSION_DENIED`, `403`. */
  backendCode?: string;
}

export interface ErrorOptions {
  cause?: unknown;
  detail?: BackendDetail;
}

export class SecretGatewayError extends Error {
  readonly [MARKER] = true;
  readonly code: ErrorCode;
  /** Set by adapters on backend failures; see BackendDetail. */
  readonly detail: BackendDetail | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = options.detail;
  }

  /** Works across two copies of this package (instanceof does not). */
  static isInstance(error: unknown): error is SecretGatewayError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

export class InvalidRequestError extends SecretGatewayError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_request', message, options);
  }
}

export class InvalidPathError extends SecretGatewayError {
  constructor(message: string) {
    super('invalid_path', message);
  }
}

export class InvalidVersionError extends SecretGatewayError {
  constructor(message: string) {
    super('invalid_version', message);
  }
}

/** The path, or the given version of it, does not exist (or was deleted). */
export class SecretNotFoundError extends SecretGatewayError {
  readonly path: string;
  readonly version: number | undefined;

  constructor(path: string, version?: number) {
    super(
      'not_found',
      version === undefined
        ? `secret not found: ${path}`
        : `secret version not found: ${path} version ${version}`,
    );
    this.path = path;
    this.version = version;
  }
}

/** A named resource of the management API (a secret group, a secret) that does not exist. */
export class ResourceNotFoundError extends SecretGatewayError {
  constructor(kind: string, id: string) {
    super('not_found', `${kind} not found: ${id}`);
  }
}

/** Creating something whose unique name is taken (a secret group name within a tenant): 409. */
export class AlreadyExistsError extends SecretGatewayError {
  constructor(message: string) {
    super('already_exists', message);
  }
}

/** A well-formed request whose content is invalid (missing fields, no secrets): 422. */
export class UnprocessableError extends SecretGatewayError {
  constructor(message: string) {
    super('unprocessable', message);
  }
}

/** The request depends on something that is not there (an unknown integration): 424. */
export class FailedDependencyError extends SecretGatewayError {
  constructor(message: string) {
    super('failed_dependency', message);
  }
}

export class ValueTooLargeError extends SecretGatewayError {
  readonly limitBytes: number;

  constructor(sizeBytes: number, limitBytes: number) {
    super('value_too_large', `value is ${sizeBytes} bytes; the limit is ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
  }
}

export class UnauthorizedError extends SecretGatewayError {
  constructor(message = 'missing or invalid credentials') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends SecretGatewayError {
  constructor(message = 'this key may not perform this operation on this path') {
    super('forbidden', message);
  }
}

/** The route exists but not for this method: 405 with the methods it has. */
export class MethodNotAllowedError extends SecretGatewayError {
  readonly allow: readonly string[];

  constructor(allow: readonly string[], route: string) {
    super('method_not_allowed', `method not allowed on ${route} (use ${allow.join(', ')})`);
    this.allow = allow;
  }
}

/** The request body (not the secret value) is over the gateway's limit. */
export class PayloadTooLargeError extends SecretGatewayError {
  constructor(limitBytes: number) {
    super('payload_too_large', `request body exceeds ${limitBytes} bytes`);
  }
}

export class RateLimitedError extends SecretGatewayError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, message = 'too many requests') {
    super('rate_limited', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Another writer took the version this write was about to create. SecretService retries the write;
 * it reaches a client only when retries are exhausted (as backend_unavailable).
 */
export class VersionConflictError extends SecretGatewayError {
  /**
   * How long, in ms, the adapter expects it takes for the winner's write to show (an eventually
   * consistent backend); retryOnConflict waits about this long before the next attempt.
   */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super('conflict', message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export type UnavailableReason = 'unreachable' | 'throttled' | 'timeout' | 'server_error' | 'busy';

/** The backend could not be reached, throttled us, failed transiently or ran past the deadline: 503. */
export class BackendUnavailableError extends SecretGatewayError {
  readonly reason: UnavailableReason;
  readonly retryAfterSeconds: number;

  constructor(
    reason: UnavailableReason,
    message: string,
    options: ErrorOptions & { retryAfterSeconds?: number } = {},
  ) {
    super('backend_unavailable', message, options);
    this.reason = reason;
    this.retryAfterSeconds = Math.max(1, Math.ceil(options.retryAfterSeconds ?? 1));
  }
}

export type BackendErrorReason = 'denied' | 'invalid' | 'unexpected';

/** The backend answered something the adapter cannot turn into a result (including access denied): 502. */
export class BackendError extends SecretGatewayError {
  readonly reason: BackendErrorReason;

  constructor(reason: BackendErrorReason, message: string, options?: ErrorOptions) {
    super('backend_error', message, options);
    this.reason = reason;
  }
}

/**
 * The fields of an error that may go into a log line: its class, code, reason, backend detail and
 * the gateway's (or adapter's) own message. Never the cause chain: it can hold SDK request objects.
 */
export function errorLogFields(error: unknown): Record<string, string> {
  if (!SecretGatewayError.isInstance(error)) {
    // A bug's message can quote data (JSON.parse quotes its input): its class and where it was thrown.
    const at = error instanceof Error ? /\n\s+at (.*)/.exec(error.stack ?? '')?.[1] : undefined;
    return { name: error instanceof Error ? error.name : typeof error, ...(at ? { at } : {}) };
  }
  const fields: Record<string, string> = { name: error.name, code: error.code, message: error.message };
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string') fields.reason = reason;
  if (error.detail) {
    fields.backend = error.detail.backend;
    fields.operation = error.detail.operation;
    if (error.detail.backendCode !== undefined) fields.backendCode = error.detail.backendCode;
  }
  return fields;
}
