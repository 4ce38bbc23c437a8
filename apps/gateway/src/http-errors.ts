import type { ServerResponse } from 'node:http';
import { type ErrorCode, SecretGatewayError } from '@secret-gateway/core';
import { type Headers, writeJson, writeText } from './respond.ts';

/** The one place a core error code becomes an HTTP status (contract.md §4). */
const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_path: 400,
  invalid_version: 400,
  not_found: 404,
  already_exists: 409,
  unprocessable: 422,
  failed_dependency: 424,
  unauthorized: 401,
  forbidden: 403,
  method_not_allowed: 405,
  request_timeout: 408,
  value_too_large: 413,
  payload_too_large: 413,
  rate_limited: 429,
  conflict: 503,
  backend_error: 502,
  backend_unavailable: 503,
  internal: 500,
};

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
}

/** An answer not yet sent: routes return one, the pipeline audits it and then writes it. */
export interface Outcome {
  status: number;
  body: unknown;
  headers?: Headers;
  /** The error code, for audit lines and logs. */
  code?: string;
  /** The error behind a failure, for the operator's log (never sent to the client). */
  error?: unknown;
  /** Close the connection after answering (the request's body was not read). */
  close?: boolean;
  /** A body that is not JSON (the metrics text): sent as it is, with this type. */
  contentType?: string;
}

export function errorOutcome(
  status: number,
  code: string,
  message: string,
  retryAfterSeconds?: number,
): Outcome {
  const body: ErrorBody = { statusCode: status, code, message };
  return {
    status,
    body,
    code,
    headers: retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) },
  };
}

/**
 * The contract's answer for a thrown error: the status from STATUS, the code, and a message. What
 * the gateway itself judged (bad input, not found, forbidden) keeps its precise message. A backend
 * failure gets a generic one that names the request id: backend text can name IAM principals,
 * account ids or quote the request, so the cause goes to the operator's log (see the pipeline),
 * never to the client. `notFoundStatus` is 400 for DELETE (the contract says "400 if path or
 * version does not exist") and 404 for GET.
 */
export function outcomeOf(error: unknown, requestId: string, notFoundStatus = 404): Outcome {
  if (!SecretGatewayError.isInstance(error)) {
    return { ...errorOutcome(500, 'internal', `internal error (request id ${requestId})`), error };
  }
  // A lost version race that never settled is the backend being busy.
  const code: ErrorCode = error.code === 'conflict' ? 'backend_unavailable' : error.code;
  const status = code === 'not_found' ? notFoundStatus : STATUS[code];
  const retryAfter =
    'retryAfterSeconds' in error && typeof error.retryAfterSeconds === 'number'
      ? error.retryAfterSeconds
      : status === 503
        ? 1
        : undefined;
  const outcome = errorOutcome(status, code, clientMessage(error, code, requestId), retryAfter);
  if (status >= 500 && !(error as { public?: unknown }).public) outcome.error = error;
  if ('allow' in error && Array.isArray(error.allow)) {
    outcome.headers = { ...(outcome.headers as Record<string, string>), Allow: error.allow.join(', ') };
  }
  return outcome;
}

function clientMessage(error: SecretGatewayError, code: ErrorCode, requestId: string): string {
  if ((error as { public?: unknown }).public === true) return error.message;
  switch (code) {
    case 'backend_unavailable': {
      const reason = (error as { reason?: unknown }).reason;
      return `the backend is unavailable${typeof reason === 'string' ? ` (${reason})` : ''}; retry later (request id ${requestId})`;
    }
    case 'backend_error':
      return `the backend refused or failed the request; the gateway's log has the cause (request id ${requestId})`;
    case 'internal':
      return `internal error (request id ${requestId})`;
    default:
      return error.message;
  }
}

export function sendOutcome(res: ServerResponse, outcome: Outcome): void {
  if (outcome.contentType === undefined) {
    writeJson(res, outcome.status, outcome.body, outcome.headers, outcome.close);
  } else {
    const { status, contentType, body, headers, close } = outcome;
    writeText(res, status, contentType, String(body), headers, undefined, close);
  }
}

/**
 * Why the backend is not ready, for /readyz and the root check: the adapter's check() names the
 * cause in the operator's words (adapters build it from codes, never from backend text).
 */
export function readinessMessage(adapter: string, error: unknown): string {
  if (SecretGatewayError.isInstance(error) && error.code.startsWith('backend_')) {
    return `${adapter} backend not ready: ${error.message}`;
  }
  return `${adapter} backend not ready: its check failed unexpectedly; the gateway's log has the cause`;
}
