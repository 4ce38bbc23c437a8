import type { ServerResponse } from 'node:http';
import { type ErrorCode, SecretGatewayError } from '@secret-gateway/core';
import { writeJson } from './respond.ts';

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

export function sendError(
  res: ServerResponse,
  statusCode: number,
  code: string,
  message: string,
  retryAfterSeconds?: number,
): void {
  const body: ErrorBody = { statusCode, code, message };
  writeJson(
    res,
    statusCode,
    body,
    retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) },
  );
}

/**
 * Writes a thrown error in the contract's shape. `notFoundStatus` is 400 for DELETE (the contract
 * says "400 if path or version does not exist") and 404 for GET. Returns the status sent.
 */
export function sendThrown(res: ServerResponse, error: unknown, notFoundStatus = 404): number {
  if (!SecretGatewayError.isInstance(error)) {
    sendError(res, 500, 'internal', 'internal error');
    return 500;
  }
  // Contract: a lost version race that never settled is the backend being busy.
  const code: ErrorCode = error.code === 'conflict' ? 'backend_unavailable' : error.code;
  const status = code === 'not_found' ? notFoundStatus : STATUS[code];
  const retryAfter =
    'retryAfterSeconds' in error && typeof error.retryAfterSeconds === 'number'
      ? error.retryAfterSeconds
      : status === 503
        ? 1
        : undefined;
  sendError(res, status, code, code === 'internal' ? 'internal error' : error.message, retryAfter);
  return status;
}
