import { randomBytes } from 'node:crypto';
import { InvalidRequestError } from '@secret-gateway/core';

/** Opaque, URL-safe ids with 128 bits of randomness: `sg_...` for groups, `sec_...` for secrets. */
export const newId = (prefix: 'sg_' | 'sec_'): string => prefix + randomBytes(16).toString('base64url');

/**
 * A negative or fractional limit or offset is the caller's mistake, not a database error (LIMIT -1
 * is "no limit" to SQLite, a fraction an SQL error): every store checks pages with this.
 */
export function checkPage(page: { limit: number; offset: number }): void {
  for (const [name, value] of Object.entries({ limit: page.limit, offset: page.offset })) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidRequestError(`${name} must be a non-negative integer, got ${String(value)}`);
    }
  }
}
