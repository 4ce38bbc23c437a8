import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  BackendError,
  BackendUnavailableError,
  type CallOptions,
  type GatewaySettings,
  pooledRandomBytes,
  type StoredSecret,
} from '@secret-gateway/core';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { ChangeWatch } from './changes.ts';
import { Checkpointer, type CheckpointStats } from './checkpointer.ts';
import { settingsFromEnv } from './config.ts';
import { associatedData, Keyring, type Sealed } from './crypto.ts';
import { GroupCommit, type GroupCommitStats } from './group-commit.ts';
import { loadMasterKeys, missingKeysMessage } from './keys.ts';
import { migrate } from './schema.ts';
import { syncError, WalSync } from './wal-sync.ts';

export { describeSettings, type SqliteSettings, settingsFromEnv } from './config.ts';
export { associatedData, Keyring, keyIdOf } from './crypto.ts';
export type { GroupCommitStats } from './group-commit.ts';
export { loadMasterKeys } from './keys.ts';

export interface SqliteAdapterOptions {
  /** Database file; created with mode 0600 if missing. */
  file: string;
  /** Encrypts new values with `current`, decrypts with any key it holds. */
  keyring: Keyring;
  /** SQLite page cache in MiB (default 64). Random reads over large stores need it. */
  cacheMiB?: number;
  /**
   * Memory-map this many MiB of the file (default 0: mapped pages count as the process's RSS, and
   * reads through the OS page cache measured as fast once warm).
   */
  mmapMiB?: number;
  /**
   * Read the whole file once in the background at start (default true), so the OS page cache is
   * warm before traffic: SQLite reads are synchronous, and a cold page read stalls every request
   * behind it (measured: p99 over 250 ms for the first random reads over 1M secrets).
   */
  prefetch?: boolean;
  /** Milliseconds to wait for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
  /**
   * How often, at most, to look for other processes' commits to the file, in ms (default 1). Writes
   * and deletes are acknowledged this much later (see ChangeWatch); 0 checks on every cache hit
   * (about 4 us each) and delays nothing.
   */
  changeCheckMs?: number;
  /**
   * Group commit (default true): writes and deletes that arrive together share one transaction and
   * one fsync, run off the event loop, each acknowledged after that fsync (see GroupCommit). False:
   * one `synchronous = FULL` transaction per change, run before its promise returns (then every call
   * is synchronous, as before).
   */
  groupCommit?: boolean;
  /**
   * Wraps group commit's fsync of the WAL (tests: to hold it, count it or make it fail). Gets the
   * real one; must make the commit durable before resolving, as the real one does.
   */
  wrapSync?: (sync: () => Promise<void>) => () => Promise<void>;
  /** Group commit's checkpoints in a worker (see Checkpointer): how often, and when writes wait. */
  checkpoints?: { intervalMs?: number; stallFrames?: number };
  /** Where the keys came from (`SGW_MASTER_KEY`, a master.key path), named when the store needs others. */
  keySource?: string;
}

interface VersionRow extends Sealed {
  version: number;
  generation: Buffer;
}

/** The embedded default store: one SQLite file, every value encrypted with AES-256-GCM. */
export class SqliteAdapter implements BackendAdapter {
  readonly contractVersion = ADAPTER_CONTRACT_VERSION;
  readonly name = 'sqlite';
  readonly capabilities: AdapterCapabilities;
  readonly file: string;
  readonly db: Db;
  /** Resolves with the bytes read once the background prefetch is done (0 when off). */
  readonly prefetched: Promise<number>;
  readonly #keyring: Keyring;
  readonly #keySource: string | undefined;
  readonly #changes: ChangeWatch;
  readonly #keyIds: Statement;
  readonly #stmt: Record<
    | 'latest'
    | 'byVersion'
    | 'allocate'
    | 'insertVersion'
    | 'deleteVersion'
    | 'deleteSecret'
    | 'deleteVersions'
    | 'list',
    Statement
  >;
  readonly #write: (path: string, value: string) => number;
  readonly #deleteAll: (path: string) => boolean;
  /** Undefined when group commit is off. */
  readonly #group: GroupCommit | undefined;
  readonly #wal: WalSync | undefined;
  readonly #checkpointer: Checkpointer | undefined;
  #closed = false;

  constructor(options: SqliteAdapterOptions) {
    this.file = options.file;
    this.#keyring = options.keyring;
    this.#keySource = options.keySource;
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
    closeSync(openSync(options.file, 'a', 0o600));
    chmodSync(options.file, 0o600);
    this.db = new Database(options.file);
    // WAL: readers never block writers. A change is on disk before it is acknowledged: FULL syncs
    // in each COMMIT; with group commit, NORMAL leaves that to WalSync, off the event loop.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(options.groupCommit === false ? 'synchronous = FULL' : 'synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.pragma(`cache_size = -${(options.cacheMiB ?? 64) * 1024}`);
    this.db.pragma(`mmap_size = ${(options.mmapMiB ?? 0) * 1024 * 1024}`);
    // Freed pages are zeroed, so deleted ciphertexts do not linger in the file.
    this.db.pragma('secure_delete = ON');
    try {
      migrate(this.db);
      this.#keyIds = this.db.prepare('SELECT key_id FROM key_ids ORDER BY key_id').pluck();
      // Refuse to start on a store we cannot read all of: serving some secrets and 502 for the rest,
      // while writing new ones under another key, would look healthy and mix two stores in one.
      const missing = this.#missingKeyIds();
      if (missing.length > 0) throw this.#missingKeysError(missing, 'open');
    } catch (error) {
      this.db.close();
      throw error;
    }
    const changeCheckMs = options.changeCheckMs ?? 1;
    this.#changes = new ChangeWatch(this.db, changeCheckMs);
    this.capabilities = {
      // SQLite's default SQLITE_MAX_LENGTH is 1e9; the gateway's own limit (64 KiB) applies first.
      maxValueBytes: 512 * 1024 * 1024,
      maxPathBytes: 1024,
      // BEGIN IMMEDIATE serialises writers on one file, across processes too.
      atomicVersionsAcrossReplicas: true,
      list: true,
      // better-sqlite3 is synchronous: a deadline timer could never fire during a read. Writes wait
      // for their batch's commit when group commit is on, so only then do they get a deadline.
      synchronousReads: true,
      synchronous: options.groupCommit === false,
      externalChangesWindowMs: changeCheckMs,
      // Group commit holds acknowledgements back from the moment the commit became visible.
      holdsBackAcknowledgements: options.groupCommit !== false,
    };
    if (options.groupCommit !== false) {
      const wal = new WalSync(options.file);
      this.#wal = wal;
      // Checkpoints move to a worker thread (see Checkpointer); if it dies, SQLite's own come back.
      this.db.pragma('wal_autocheckpoint = 0');
      const checkpointer = new Checkpointer(
        options.file,
        () => {
          if (this.#closed) return;
          this.db.pragma('wal_autocheckpoint = 1000');
          process.emitWarning(
            'the SQLite checkpoint worker stopped: checkpoints run in COMMIT again',
            'SecretGatewayWarning',
          );
        },
        options.checkpoints,
      );
      this.#checkpointer = checkpointer;
      this.#group = new GroupCommit(this.db, (error) => sqliteError(error), {
        checkpoint: checkpointer,
        syncError,
        sync: options.wrapSync ? options.wrapSync(() => wal.sync()) : () => wal.sync(),
        syncNow: () => wal.syncNow(),
        holdMs: changeCheckMs,
      });
    }
    this.prefetched = options.prefetch === false ? Promise.resolve(0) : prefetch(options.file);

    const columns = 'v.version, v.key_id AS keyId, v.iv, v.tag, v.ciphertext, s.generation';
    const prepare = (sql: string) => this.db.prepare(sql);
    this.#stmt = {
      latest: prepare(
        `SELECT ${columns} FROM secrets s JOIN versions v ON v.path = s.path WHERE s.path = ? ORDER BY v.version DESC LIMIT 1`,
      ),
      byVersion: prepare(
        `SELECT ${columns} FROM secrets s JOIN versions v ON v.path = s.path WHERE s.path = ? AND v.version = ?`,
      ),
      // The next version of a path (1 for a new one, with a fresh generation), in one statement.
      allocate: prepare(
        `INSERT INTO secrets (path, generation, max_version) VALUES (?, ?, 1)
         ON CONFLICT (path) DO UPDATE SET max_version = max_version + 1
         RETURNING generation, max_version AS version`,
      ),
      insertVersion: prepare(
        'INSERT INTO versions (path, version, key_id, iv, tag, ciphertext, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      deleteVersion: prepare('DELETE FROM versions WHERE path = ? AND version = ?'),
      deleteSecret: prepare('DELETE FROM secrets WHERE path = ?'),
      deleteVersions: prepare('DELETE FROM versions WHERE path = ?'),
      list: prepare(
        'SELECT s.path FROM secrets s WHERE substr(s.path, 1, ?) = ? AND EXISTS (SELECT 1 FROM versions v WHERE v.path = s.path) ORDER BY s.path',
      ),
    };

    this.#write = this.db.transaction((path: string, value: string): number => {
      const { generation, version } = this.#stmt.allocate.get(path, pooledRandomBytes(16)) as {
        generation: Buffer;
        version: number;
      };
      const sealed = this.#keyring.seal(value, associatedData(path, version, generation));
      this.#stmt.insertVersion.run(
        path,
        version,
        sealed.keyId,
        sealed.iv,
        sealed.tag,
        sealed.ciphertext,
        Date.now(),
      );
      return version;
    }).immediate as unknown as (path: string, value: string) => number;

    this.#deleteAll = this.db.transaction((path: string): boolean => {
      this.#stmt.deleteVersions.run(path);
      return this.#stmt.deleteSecret.run(path).changes > 0;
    }).immediate as unknown as (path: string) => boolean;
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    return this.#change(path, () => this.#write(path, value), options);
  }

  async read(path: string, version: number | undefined): Promise<StoredSecret | null> {
    // A change to this path is committed but its fsync runs: answer once it is durable.
    const syncing = this.#group?.durable(path);
    if (syncing !== undefined) await syncing;
    const row = this.#guard(
      () =>
        (version === undefined ? this.#stmt.latest.get(path) : this.#stmt.byVersion.get(path, version)) as
          | VersionRow
          | undefined,
    );
    if (!row) return null;
    return {
      version: row.version,
      value: this.#keyring.open(row, associatedData(path, row.version, row.generation)),
    };
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    return this.#change(path, () => this.#deleteAll(path), options);
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    return this.#change(path, () => this.#stmt.deleteVersion.run(path, version).changes > 0, options);
  }

  /** Checkpoints run by the worker (group commit on; zeros when off). */
  get checkpointStats(): Readonly<CheckpointStats> {
    return this.#checkpointer?.stats ?? { runs: 0, stalls: 0, failures: 0 };
  }

  /** Commits and changes so far (group commit on; zeros when off): the fsyncs per change. */
  get groupCommitStats(): Readonly<GroupCommitStats> {
    return this.#group?.stats ?? { commits: 0, changes: 0 };
  }

  /** A write or delete: joins the next group commit, or (group commit off) commits now on its own. */
  #change<T>(path: string, run: () => T, options: CallOptions | undefined): Promise<T> | T {
    if (this.#group === undefined) return this.#guard(run);
    if (this.#closed) throw new BackendUnavailableError('unreachable', 'the SQLite store is closed');
    return this.#group.enqueue(path, run, options) as Promise<T>;
  }

  async list(prefix: string): Promise<string[]> {
    const syncing = this.#group?.durable();
    if (syncing !== undefined) await syncing;
    return this.#guard(() =>
      (this.#stmt.list.all(prefix.length, prefix) as Array<{ path: string }>).map((r) => r.path),
    );
  }

  /** Also fails when rows under a key this gateway lacks appeared since start (another process wrote them). */
  async check(): Promise<void> {
    const missing = this.#guard(() => this.#missingKeyIds());
    if (missing.length > 0) throw this.#missingKeysError(missing, 'check');
  }

  /** True when another process committed to the file since the last call (see ChangeWatch). */
  externalChanges(): boolean {
    return !this.#closed && this.#changes.changed();
  }

  #missingKeyIds(): string[] {
    return (this.#keyIds.all() as string[]).filter((id) => !this.#keyring.has(id));
  }

  #missingKeysError(missing: string[], operation: string): BackendError {
    return new BackendError(
      'invalid',
      missingKeysMessage(this.file, missing, this.#keyring.ids(), this.#keySource),
      { detail: { backend: this.name, operation } },
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Changes still queued are committed (and acknowledged) before the file closes, not dropped.
    await this.#group?.flush();
    await this.#checkpointer?.close();
    this.db.close();
    this.#wal?.close();
  }

  /** SQLite errors (busy past the timeout, disk full, I/O) are the store being unavailable. */
  #guard<T>(fn: () => T): T {
    if (this.#closed) throw new BackendUnavailableError('unreachable', 'the SQLite store is closed');
    try {
      return fn();
    } catch (error) {
      throw sqliteError(error);
    }
  }
}

/** SQLite errors (busy past the timeout, disk full, I/O) become BackendUnavailableError; others pass. */
function sqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    return new BackendUnavailableError(
      code.startsWith('SQLITE_BUSY') ? 'busy' : 'server_error',
      `SQLite store failed: ${code}`,
      { cause: error },
    );
  }
  return error;
}

/**
 * Reads the file through the libuv thread pool into one reused 1 MiB buffer and drops the data:
 * only the page cache keeps it. One buffer, not a stream: a stream's fresh 1 MiB chunk per read
 * (185 of them for a 1M-secret store) left the process 25-30 MB larger, and its hot reads slower,
 * long after the prefetch ended (bench/profile/hot-after-random.sh, VARIANTS="b c-fresh").
 */
async function prefetch(file: string): Promise<number> {
  let bytes = 0;
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, bytes);
      if (bytesRead === 0) break;
      bytes += bytesRead;
    }
  } catch {
    // Best effort: a prefetch that fails changes nothing but speed.
  } finally {
    await handle?.close().catch(() => undefined);
  }
  return bytes;
}

/** Keeps `SGW_SQLITE_FILE` (default `<dataDir>/secrets.db`) with keys from SGW_MASTER_KEY or `<dataDir>/master.key`. */
export function fromEnv(
  env: Record<string, string | undefined>,
  context: Pick<GatewaySettings, 'dataDir'>,
): SqliteAdapter {
  const { file, cacheMiB, mmapMiB, prefetch, groupCommit } = settingsFromEnv(env, context);
  const keys = loadMasterKeys(env, context.dataDir, file);
  return new SqliteAdapter({
    file,
    keyring: new Keyring(keys.current, keys.previous),
    keySource: keys.source,
    cacheMiB,
    mmapMiB,
    prefetch,
    groupCommit,
  });
}
