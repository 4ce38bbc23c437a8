import { randomBytes, randomUUID } from 'node:crypto';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  associatedData,
  type BackendAdapter,
  BackendError,
  BackendUnavailableError,
  type CallOptions,
  DEFAULT_BACKEND_TIMEOUT_MS,
  type GatewaySettings,
  Keyring,
  raceAbort,
  type StoredSecret,
} from '@secret-gateway/core';
import type pg from 'pg';
import { ChangeListener } from './changes.ts';
import { connectionConfig, createPool, inTransaction, Startup } from './client.ts';
import { keysFromEnv, settingsFromEnv } from './config.ts';
import { mapPgError } from './errors.ts';
import { GroupCommit, type GroupCommitStats } from './group-commit.ts';
import { CHANGES_CHANNEL, KEY_IDS_SQL, migrate } from './schema.ts';

export {
  describeSettings,
  keysFromEnv,
  type PostgresSettings,
  redactUrl,
  settingsFromEnv,
} from './config.ts';
export { mapPgError } from './errors.ts';
export type { GroupCommitStats } from './group-commit.ts';
export { METADATA_SCHEMA_VERSION } from './metadata/schema.ts';
export { PostgresMetadataStore, type PostgresMetadataStoreOptions } from './metadata/store.ts';
export { CHANGES_CHANNEL, SCHEMA_VERSION } from './schema.ts';

export interface PostgresAdapterOptions {
  /** `postgres://user:password@host:5432/db?sslmode=verify-full&sslrootcert=/ca.pem` */
  url: string;
  keyring: Keyring;
  /** Pool size per gateway process (default 10). */
  poolMax?: number;
  /**
   * The gateway's per-call deadline (default 5000 ms): the server's statement_timeout, how long a
   * call waits for a pooled connection, and how long a transaction may sit idle holding row locks.
   */
  backendTimeoutMs?: number;
  /** Keep the read caches of several replicas coherent with LISTEN/NOTIFY (default true). */
  listen?: boolean;
  /** Longest the cache trusts a listening connection that has shown no sign of life, in ms (default 5000). */
  listenStaleMs?: number;
  /**
   * Group commit (default true): writes that arrive together share one transaction and one WAL
   * flush, each acknowledged after that COMMIT (see GroupCommit). False: one transaction per write.
   */
  groupCommit?: boolean;
}

interface VersionRow {
  version: number;
  key_id: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
  generation: Buffer;
}

const COLUMNS = 'v.version, v.key_id, v.iv, v.tag, v.ciphertext, s.generation';
// Named statements: parsed once per connection, then only bound and executed.
const SQL = {
  latest: `SELECT ${COLUMNS} FROM sgw_secrets s JOIN sgw_versions v ON v.path = s.path WHERE s.path = $1 ORDER BY v.version DESC LIMIT 1`,
  byVersion: `SELECT ${COLUMNS} FROM sgw_secrets s JOIN sgw_versions v ON v.path = s.path WHERE s.path = $1 AND v.version = $2`,
  // Takes the row lock that serialises writers on this path until COMMIT, on every replica.
  allocate: `INSERT INTO sgw_secrets (path, generation, max_version) VALUES ($1, $2, 1)
    ON CONFLICT (path) DO UPDATE SET max_version = sgw_secrets.max_version + 1 RETURNING generation, max_version`,
  // The NOTIFY rides on the statement (no extra round trip) and is delivered at COMMIT.
  insertVersion: `INSERT INTO sgw_versions (path, version, key_id, iv, tag, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING pg_notify('${CHANGES_CHANNEL}', $7)`,
  deleteVersion: `DELETE FROM sgw_versions WHERE path = $1 AND version = $2 RETURNING pg_notify('${CHANGES_CHANNEL}', $3)`,
  // The versions go with it (ON DELETE CASCADE); a later write gets a new generation and version 1.
  deleteSecret: `DELETE FROM sgw_secrets WHERE path = $1 RETURNING pg_notify('${CHANGES_CHANNEL}', $2)`,
  list: 'SELECT s.path FROM sgw_secrets s WHERE s.path >= $1 AND left(s.path, length($1)) = $1 AND EXISTS (SELECT 1 FROM sgw_versions v WHERE v.path = s.path) ORDER BY s.path',
};

/** Secrets in PostgreSQL, every value encrypted with AES-256-GCM before it leaves the process. */
export class PostgresAdapter implements BackendAdapter {
  readonly contractVersion = ADAPTER_CONTRACT_VERSION;
  readonly name = 'postgres';
  readonly capabilities: AdapterCapabilities = {
    // A bytea holds 1 GB; the gateway's own limit (64 KiB by default) applies first.
    maxValueBytes: 256 * 1024 * 1024,
    maxPathBytes: 1024,
    // Writers on one path queue on the row lock of its sgw_secrets row, whichever replica they run on.
    atomicVersionsAcrossReplicas: true,
    list: true,
  };
  readonly #startup: Startup;
  readonly #pool: pg.Pool;
  readonly #keyring: Keyring;
  readonly #listener: ChangeListener | undefined;
  /** Undefined when group commit is off. */
  readonly #group: GroupCommit | undefined;
  /** Sent as the NOTIFY payload, so this adapter ignores its own. */
  readonly #id = randomUUID();
  #closed = false;

  constructor(options: PostgresAdapterOptions) {
    this.#keyring = options.keyring;
    const timeoutMs = options.backendTimeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS;
    this.#pool = createPool(options.url, options.poolMax ?? 10, timeoutMs);
    if (options.listen !== false) {
      const staleAfterMs = options.listenStaleMs ?? 5000;
      this.#listener = new ChangeListener({
        config: {
          ...connectionConfig(options.url, timeoutMs),
          // Its own name, so an operator (and a test) can tell it from the pool's connections.
          application_name: 'secret-gateway-listen',
          // A heartbeat unanswered this long means the connection is dead: reconnect.
          query_timeout: staleAfterMs,
        },
        selfId: this.#id,
        heartbeatMs: Math.max(50, Math.floor(staleAfterMs / 3)),
        staleAfterMs,
      });
    }
    this.#group =
      options.groupCommit === false
        ? undefined
        : new GroupCommit({
            pool: this.#pool,
            keyring: this.#keyring,
            notifyPayload: this.#id,
            ready: () => this.#startup.whenReady(),
            mapError: (error) => mapPgError(error, 'write'),
          });
    this.#startup = new Startup(() => this.#start());
  }

  /** Commits and writes so far (group commit on; zeros when off): writes / commits is the mean batch size. */
  get groupCommitStats(): Readonly<GroupCommitStats> {
    return this.#group?.stats ?? { commits: 0, writes: 0 };
  }

  /** Settles when the schema is migrated and the store's keys checked; every call waits for it. */
  get ready(): Promise<void> {
    return this.#startup.ready;
  }

  async #start(): Promise<void> {
    const client = await this.#pool.connect().catch((error) => {
      throw mapPgError(error, 'connect');
    });
    try {
      await migrate(client).catch((error) => {
        throw mapPgError(error, 'migrate');
      });
    } finally {
      client.release();
    }
    await this.#checkKeys('open');
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    const group = this.#group;
    if (group !== undefined)
      // Queued synchronously (each batch waits for start-up), so close() cannot miss it.
      return this.#guard('write', options?.signal, () => group.enqueue(path, value, options?.signal), true);
    return this.#transaction('write', options?.signal, async (client) => {
      const allocated = await client.query<{ generation: Buffer; max_version: number }>({
        name: 'sgw_allocate',
        text: SQL.allocate,
        values: [path, randomBytes(16)],
      });
      const { generation, max_version: version } = allocated.rows[0] as {
        generation: Buffer;
        max_version: number;
      };
      const sealed = this.#keyring.seal(value, associatedData(path, version, generation));
      await client.query({
        name: 'sgw_insert_version',
        text: SQL.insertVersion,
        values: [path, version, sealed.keyId, sealed.iv, sealed.tag, sealed.ciphertext, this.#id],
      });
      return version;
    });
  }

  async read(path: string, version: number | undefined, options?: CallOptions): Promise<StoredSecret | null> {
    const result = await this.#query<VersionRow>(
      'read',
      options?.signal,
      version === undefined
        ? { name: 'sgw_latest', text: SQL.latest, values: [path] }
        : { name: 'sgw_by_version', text: SQL.byVersion, values: [path, version] },
    );
    const row = result.rows[0];
    if (!row) return null;
    const sealed = { keyId: row.key_id, iv: row.iv, tag: row.tag, ciphertext: row.ciphertext };
    return {
      version: row.version,
      value: this.#keyring.open(sealed, associatedData(path, row.version, row.generation)),
    };
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    const result = await this.#query('delete', options?.signal, {
      name: 'sgw_delete_secret',
      text: SQL.deleteSecret,
      values: [path, this.#id],
    });
    return (result.rowCount ?? 0) > 0;
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    const result = await this.#query('delete version', options?.signal, {
      name: 'sgw_delete_version',
      text: SQL.deleteVersion,
      values: [path, version, this.#id],
    });
    return (result.rowCount ?? 0) > 0;
  }

  async list(prefix: string, options?: CallOptions): Promise<string[]> {
    const result = await this.#query<{ path: string }>('list', options?.signal, {
      name: 'sgw_list',
      text: SQL.list,
      values: [prefix],
    });
    return result.rows.map((r) => r.path);
  }

  /** The database answers and holds no rows under a key this gateway lacks (another replica's key). */
  async check(options?: CallOptions): Promise<void> {
    await raceAbort(this.#checkKeys('check'), options?.signal);
  }

  /** True when another replica committed since the last call, or while that cannot be known (see ChangeListener). */
  externalChanges(): boolean {
    return this.#listener !== undefined && !this.#closed && this.#listener.changed();
  }

  /** Resolves once the LISTEN connection is in place (tests; the gateway does not wait for it). */
  async listening(): Promise<boolean> {
    await this.#listener?.ready;
    return this.listenerUp;
  }

  /** True while the LISTEN connection is up and listening. */
  get listenerUp(): boolean {
    return this.#listener?.listening ?? false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Writes already queued are committed (or fail) before the pool goes.
    await this.#group?.idle();
    await this.#listener?.close();
    await this.#pool.end().catch(() => undefined);
  }

  async #checkKeys(operation: string): Promise<void> {
    const result = await this.#query<{ id: string }>(operation, undefined, KEY_IDS_SQL, operation === 'open');
    const missing = result.rows.map((r) => r.id).filter((id) => !this.#keyring.has(id));
    if (missing.length > 0) {
      throw new BackendError(
        'invalid',
        `the database holds secrets encrypted under key id(s) ${missing.join(', ')}, which this gateway does not have ` +
          `(it has ${this.#keyring.ids().join(', ')}): set SGW_MASTER_KEY to the key they were written with ` +
          '(keep older keys in SGW_MASTER_KEY_PREVIOUS, comma-separated)',
        { detail: { backend: this.name, operation } },
      );
    }
  }

  /** One statement on a pooled connection (autocommit), abandoned when the caller's deadline fires. */
  async #query<R extends pg.QueryResultRow>(
    operation: string,
    signal: AbortSignal | undefined,
    query: pg.QueryConfig | string,
    starting = false,
  ): Promise<pg.QueryResult<R>> {
    return this.#guard(operation, signal, () => this.#pool.query<R>(query as pg.QueryConfig), starting);
  }

  /**
   * Runs `call` once the store is open and started, abandoned when the caller's deadline fires;
   * whatever it throws goes through the one error mapping.
   */
  async #guard<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
    starting = false,
  ): Promise<T> {
    const run = async () => {
      this.#assertOpen();
      if (!starting) await this.#startup.whenReady();
      return call();
    };
    try {
      return await raceAbort(run(), signal);
    } catch (error) {
      throw mapPgError(error, operation);
    }
  }

  /**
   * BEGIN ... COMMIT on one connection. A call whose deadline passed before COMMIT is rolled back
   * rather than committed behind the caller's back (the client was already told 503).
   */
  async #transaction<T>(
    operation: string,
    signal: AbortSignal | undefined,
    fn: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    return this.#guard(operation, signal, () =>
      inTransaction(this.#pool, fn, () => signal?.throwIfAborted()),
    );
  }

  #assertOpen(): void {
    if (this.#closed) throw new BackendUnavailableError('unreachable', 'the Postgres store is closed');
  }
}

/** Connects to SGW_POSTGRES_URL (or DATABASE_URL) with keys from SGW_MASTER_KEY (+ SGW_MASTER_KEY_PREVIOUS). */
export function fromEnv(
  env: Record<string, string | undefined>,
  context: Pick<GatewaySettings, 'backendTimeoutMs'>,
): PostgresAdapter {
  const settings = settingsFromEnv(env, context);
  const keys = keysFromEnv(env);
  return new PostgresAdapter({
    url: settings.url,
    keyring: new Keyring(keys.current, keys.previous),
    poolMax: settings.poolMax,
    backendTimeoutMs: context.backendTimeoutMs,
    listenStaleMs: settings.listenStaleMs,
    groupCommit: settings.groupCommit,
  });
}
