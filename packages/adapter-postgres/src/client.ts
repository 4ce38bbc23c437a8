import pg from 'pg';

/**
 * Connection settings shared by the pool and the LISTEN connection. The deadline is enforced by
 * the server as well: a statement still running when the gateway gave up is cancelled there, and a
 * transaction left idle (a replica killed between BEGIN and COMMIT) releases its row locks.
 */
export function connectionConfig(url: string, timeoutMs: number): pg.ClientConfig {
  return {
    connectionString: url,
    application_name: 'secret-gateway',
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    idle_in_transaction_session_timeout: Math.max(1000, 2 * timeoutMs),
    keepAlive: true,
  };
}

export function createPool(url: string, max: number, timeoutMs: number): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(url, timeoutMs), max, idleTimeoutMillis: 30_000 });
  // An idle pooled connection that dies (the database restarted) is dropped by the pool; without
  // a listener its 'error' would crash the process. The next call simply opens a new one.
  pool.on('error', () => undefined);
  return pool;
}
