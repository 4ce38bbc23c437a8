import { SecretGatewayError } from '@secret-gateway/core';
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

/**
 * BEGIN ... COMMIT on one pooled connection. `beforeCommit` runs last (a deadline check): what it
 * throws rolls the transaction back. A connection that failed mid-transaction is discarded, not
 * handed to the next call.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  beforeCommit?: () => void,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // Checked out, the pool no longer listens: a connection lost between statements (the server
  // shutting down) would be an unhandled 'error' event, a crash. The next statement fails instead.
  const lost = (error: Error) => {
    broken = error;
  };
  client.on('error', lost);
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      beforeCommit?.();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw error;
    }
  } catch (error) {
    broken ??= error as Error;
    throw error;
  } finally {
    client.off('error', lost);
    client.release(broken);
  }
}

/**
 * Start-up (connect, migrate, checks) that every call waits for. A database unreachable at start
 * is tried again by the next call, so a process started before its database recovers without a
 * restart; any other failure (a schema or key problem) is kept and not retried.
 */
export class Startup {
  readonly #start: () => Promise<void>;
  #ready: Promise<void>;

  constructor(start: () => Promise<void>) {
    this.#start = start;
    this.#ready = this.#begin();
  }

  get ready(): Promise<void> {
    return this.#ready;
  }

  async whenReady(): Promise<void> {
    const current = this.#ready;
    try {
      await current;
    } catch (error) {
      if (!(SecretGatewayError.isInstance(error) && error.code === 'backend_unavailable')) throw error;
      if (this.#ready === current) this.#ready = this.#begin();
      await this.#ready;
    }
  }

  #begin(): Promise<void> {
    const ready = this.#start();
    // Surfaced by the first call; never an unhandled rejection.
    ready.catch(() => undefined);
    return ready;
  }
}
