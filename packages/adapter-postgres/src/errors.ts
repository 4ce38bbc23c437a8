import {
  BackendError,
  BackendUnavailableError,
  SecretGatewayError,
  VersionConflictError,
} from '@secret-gateway/core';

/** Socket-level failures: the database is not reachable (down, restarting, network). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * The one mapping from pg's errors to core's typed errors. Messages are built from SQLSTATE codes
 * and our own words only: a Postgres message can quote the row it failed on (a unique violation
 * names the key, a bad input quotes the value), so it never reaches a message, a log or a client.
 */
export function mapPgError(error: unknown, operation: string): SecretGatewayError {
  if (SecretGatewayError.isInstance(error)) return error;
  const raw = (error as { code?: unknown })?.code;
  const code = typeof raw === 'string' ? raw : undefined;
  const detail = { backend: 'postgres', operation, ...(code ? { backendCode: code } : {}) };
  const unavailable = (
    reason: 'unreachable' | 'throttled' | 'timeout' | 'server_error' | 'busy',
    why: string,
    retryAfterSeconds = 1,
  ) =>
    new BackendUnavailableError(reason, `Postgres ${operation} failed: ${why}`, {
      cause: error,
      detail,
      retryAfterSeconds,
    });
  const name = (error as { name?: unknown })?.name;
  if (name === 'AbortError' || name === 'TimeoutError')
    return unavailable('timeout', 'the call ran past its deadline');
  if (code === undefined) {
    // pg reports a dropped connection and the pool's connect timeout without a code.
    const message = error instanceof Error ? error.message : '';
    if (/terminated|timeout exceeded when trying to connect|Connection ended|not queryable/i.test(message))
      return unavailable('unreachable', 'the connection to the database was lost', 2);
    return new BackendError('unexpected', `Postgres ${operation} failed unexpectedly`, {
      cause: error,
      detail,
    });
  }
  if (NETWORK_CODES.has(code)) return unavailable('unreachable', `cannot reach the database (${code})`, 2);
  // 08: connection exceptions; 57P01-03: admin/crash shutdown, starting up; 25006: a read-only
  // transaction, i.e. connected to a standby (mid-failover, or a URL naming a replica).
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '25006')
    return unavailable('unreachable', `the database is unavailable (SQLSTATE ${code})`, 2);
  if (code === '53300') return unavailable('throttled', 'too many connections (SQLSTATE 53300)', 1);
  if (code.startsWith('53'))
    return unavailable('server_error', `the database is out of resources (SQLSTATE ${code})`, 2);
  if (code === '57014') return unavailable('timeout', 'the statement ran past the deadline (SQLSTATE 57014)');
  if (code === '55P03') return unavailable('busy', 'a lock was not available (SQLSTATE 55P03)');
  // Serialization failures and deadlocks: SecretService retries a write that hits one.
  if (code === '40001' || code === '40P01' || code === '23505')
    return new VersionConflictError(`Postgres ${operation} lost a race (SQLSTATE ${code})`, {
      cause: error,
      detail,
    });
  if (code.startsWith('28') || code === '42501')
    return new BackendError(
      'denied',
      `Postgres refused the gateway's credentials or rights (SQLSTATE ${code})`,
      {
        cause: error,
        detail,
      },
    );
  return new BackendError('unexpected', `Postgres ${operation} failed (SQLSTATE ${code})`, {
    cause: error,
    detail,
  });
}
