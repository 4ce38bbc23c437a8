import type { ServerResponse } from 'node:http';
import { type ErrorCode, SecretGatewayError } from '@secret-gateway/core';
import { type Headers, writeJson } from './respond.ts';

/** The one place a core error code becomes an HTTP status (contract.md §4). */
const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_path: 400,
  invalid_version: 400,
  not_found: 404,
  unauthorized: 401,
  forbidden: 403,
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

/** An answer not yet sent: routes build one, the gateway audits it and then writes it. */
export interface Outcome {
  status: number;
  body: unknown;
  headers?: Headers;
  /** The error code, for audit lines and logs. */
  code?: string;
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
 * The contract's answer for a thrown error. `notFoundStatus` is 400 for DELETE (the contract says
 * "400 if path or version does not exist") and 404 for GET.
 */
export function thrownOutcome(error: unknown, notFoundStatus = 404): Outcome {
  if (!SecretGatewayError.isInstance(error)) return errorOutcome(500, 'internal', 'internal error');
  // A lost version race that never settled is the backend being busy.
  const code: ErrorCode = error.code === 'conflict' ? 'backend_unavailable' : error.code;
  const status = code === 'not_found' ? notFoundStatus : STATUS[code];
  const retryAfter =
    'retryAfterSeconds' in error && typeof error.retryAfterSeconds === 'number'
      ? error.retryAfterSeconds
      : status === 503
        ? 1
        : undefined;
  return errorOutcome(status, code, code === 'internal' ? 'internal error' : error.message, retryAfter);
}

export function sendOutcome(res: ServerResponse, outcome: Outcome): void {
  writeJson(res, outcome.status, outcome.body, outcome.headers);
}

export function sendError(
  res: ServerResponse,
  statusCode: number,
  code: string,
  message: string,
  retryAfterSeconds?: number,
): void {
  sendOutcome(res, errorOutcome(statusCode, code, message, retryAfterSeconds));
}

export function sendThrown(res: ServerResponse, error: unknown, notFoundStatus = 404): void {
  sendOutcome(res, thrownOutcome(error, notFoundStatus));
}
