import { associatedData, type Keyring, pooledRandomBytes } from '@secret-gateway/core';
import type pg from 'pg';
import { inTransaction } from './client.ts';
import { CHANGES_CHANNEL } from './schema.ts';

// Named statements: parsed once per connection. Arrays keep the statement the same whatever the batch size.
const SQL = {
  /**
   * One upsert for the whole batch: each distinct path's max_version goes up by its number of writes.
   * Rows are locked in path order, so two batches (on any replicas) never wait on each other in a cycle.
   */
  allocate: `INSERT INTO sgw_secrets (path, generation, max_version)
    SELECT p, g, n FROM unnest($1::text[], $2::bytea[], $3::integer[]) AS b(p, g, n) ORDER BY p COLLATE "C"
    ON CONFLICT (path) DO UPDATE SET max_version = sgw_secrets.max_version + EXCLUDED.max_version
    RETURNING path, generation, max_version`,
  // The NOTIFY rides on the statement, as for a single write; Postgres sends identical ones once, at COMMIT.
  insert: `INSERT INTO sgw_versions (path, version, key_id, iv, tag, ciphertext)
    SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bytea[], $5::bytea[], $6::bytea[])
    RETURNING pg_notify('${CHANGES_CHANNEL}', $7)`,
};

interface Pending {
  path: string;
  value: string;
  signal: AbortSignal | undefined;
  resolve: (version: number) => void;
  reject: (error: unknown) => void;
}

/** Commits and the writes they carried since start: writes / commits is the mean batch size. */
export interface GroupCommitStats {
  commits: number;
  writes: number;
}

export interface GroupCommitOptions {
  pool: pg.Pool;
  keyring: Keyring;
  /** The NOTIFY payload (the adapter's id, so its own listener ignores it). */
  notifyPayload: string;
  /**
   * Start-up (migrations, key check), awaited by each batch: writes are queued at once, so a
   * close() that follows sees every write that began before it.
   */
  ready: () => Promise<void>;
  /** The adapter's one error mapping, applied to a failed batch. */
  mapError: (error: unknown) => unknown;
  /** Most writes in one transaction (default 512). */
  maxBatch?: number;
  /** A batch closes once its values reach this many characters (default 8 Mi): bounds one statement's size. */
  maxBatchChars?: number;
  /**
   * Batches in flight at once (default 2): one can run its statements while the other waits for its
   * WAL flush, and a batch stuck on a row lock held elsewhere does not hold up every other write.
   */
  maxInFlight?: number;
}

/** Thrown before COMMIT when a caller's deadline passed: the batch is rolled back and made again without it. */
const DEADLINE_PASSED = Symbol('a deadline passed before COMMIT');

/**
 * Group commit: writes that arrive together (the same event-loop turn, or while the batches in
 * flight commit) share one transaction on one pooled connection: BEGIN, one statement allocating
 * every version, the values sealed here, one statement inserting them, COMMIT. Four round trips and
 * one WAL flush for the batch instead of for each write; each promise settles only after COMMIT.
 * Several writes to one path in a batch get distinct, increasing versions in arrival order.
 */
export class GroupCommit {
  readonly #options: Required<GroupCommitOptions>;
  #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  #idle: Array<() => void> = [];
  readonly stats: GroupCommitStats = { commits: 0, writes: 0 };

  constructor(options: GroupCommitOptions) {
    this.#options = { maxBatch: 512, maxBatchChars: 8 * 1024 * 1024, maxInFlight: 2, ...options };
  }

  /** Queues a write for the next batch; resolves with its version once that batch has committed. */
  enqueue(path: string, value: string, signal?: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ path, value, signal, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves when nothing is queued or in flight (before the pool closes: nothing queued is dropped). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0 || this.#inFlight >= this.#options.maxInFlight) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: requests already read from the sockets in this turn join.
    setImmediate(() => {
      this.#scheduled = false;
      while (this.#queue.length > 0 && this.#inFlight < this.#options.maxInFlight) {
        this.#inFlight++;
        void this.#commit(this.#take()).finally(() => {
          this.#inFlight--;
          this.#schedule();
          if (this.#queue.length === 0 && this.#inFlight === 0)
            for (const resolve of this.#idle.splice(0)) resolve();
        });
      }
    });
  }

  #take(): Pending[] {
    const { maxBatch, maxBatchChars } = this.#options;
    let count = 0;
    let chars = 0;
    while (count < this.#queue.length && count < maxBatch && chars < maxBatchChars) {
      chars += (this.#queue[count] as Pending).value.length;
      count++;
    }
    return this.#queue.splice(0, count);
  }

  async #commit(batch: Pending[]): Promise<void> {
    let live = batch;
    for (;;) {
      // A write whose deadline passed while it waited was already answered as timed out: not made.
      live = live.filter((item) => {
        if (item.signal?.aborted) item.reject(item.signal.reason);
        return !item.signal?.aborted;
      });
      if (live.length === 0) return;
      const items = live;
      try {
        await this.#options.ready();
        const versions = await inTransaction(
          this.#options.pool,
          (client) => this.#statements(client, items),
          () => {
            if (items.some((item) => item.signal?.aborted)) throw DEADLINE_PASSED;
          },
        );
        this.stats.commits++;
        this.stats.writes += items.length;
        items.forEach((item, i) => {
          item.resolve(versions[i] as number);
        });
        return;
      } catch (error) {
        // Rolled back: make the batch again without the writes whose callers gave up.
        if (error === DEADLINE_PASSED) continue;
        // Nothing of the batch is stored (or, COMMIT's answer lost, it cannot be known): every write fails.
        const mapped = this.#options.mapError(error);
        for (const item of items) item.reject(mapped);
        return;
      }
    }
  }

  /** The batch's two statements; returns each write's version, in batch order. */
  async #statements(client: pg.PoolClient, items: Pending[]): Promise<number[]> {
    const counts = new Map<string, number>();
    for (const { path } of items) counts.set(path, (counts.get(path) ?? 0) + 1);
    const paths = [...counts.keys()];
    const allocated = await client.query<{ path: string; generation: Buffer; max_version: number }>({
      name: 'sgw_allocate_batch',
      text: SQL.allocate,
      values: [paths, paths.map(() => pooledRandomBytes(16)), paths.map((p) => counts.get(p))],
    });
    // The first version of each path's run: the new max_version less its writes in this batch.
    const next = new Map<string, { generation: Buffer; version: number }>();
    for (const row of allocated.rows)
      next.set(row.path, {
        generation: row.generation,
        version: row.max_version - (counts.get(row.path) as number) + 1,
      });
    const columns = {
      paths: [] as string[],
      versions: [] as number[],
      keyIds: [] as string[],
      ivs: [] as Buffer[],
      tags: [] as Buffer[],
      ciphertexts: [] as Buffer[],
    };
    for (const { path, value } of items) {
      const slot = next.get(path);
      if (slot === undefined) throw new Error('the batch allocation returned no row for a path');
      const version = slot.version++;
      const sealed = this.#options.keyring.seal(value, associatedData(path, version, slot.generation));
      columns.paths.push(path);
      columns.versions.push(version);
      columns.keyIds.push(sealed.keyId);
      columns.ivs.push(sealed.iv);
      columns.tags.push(sealed.tag);
      columns.ciphertexts.push(sealed.ciphertext);
    }
    await client.query({
      name: 'sgw_insert_batch',
      text: SQL.insert,
      values: [...Object.values(columns), this.#options.notifyPayload],
    });
    return columns.versions;
  }
}
