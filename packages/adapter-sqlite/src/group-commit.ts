import { BackendUnavailableError, type CallOptions } from '@secret-gateway/core';
import type { Database } from 'better-sqlite3';

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Its deadline and signal: a change no longer wanted when its turn comes is not made. */
  options: CallOptions | undefined;
  /** The path the change touches: reads of it wait until the change is durable. */
  key: string;
}

/** Commits and the changes they carried since start: changes / commits is the batch size. */
export interface GroupCommitStats {
  commits: number;
  changes: number;
}

export interface GroupCommitOptions {
  /** At most this many changes per commit (default 512). */
  maxBatch?: number;
  /**
   * Makes what the last COMMIT wrote durable, off the event loop (the WAL's fdatasync in the libuv
   * thread pool; the connection runs with `synchronous = NORMAL`, so COMMIT itself does not sync).
   * Called once per batch; a rejection fails every change of that batch.
   */
  sync: () => Promise<void>;
  /** Makes it durable now, on this thread: for `close()`. */
  syncNow: () => void;
  /** The error a failed sync (or syncNow) becomes for the changes of its batch. */
  syncError: (error: unknown) => unknown;
  /**
   * Acknowledgements wait until this many ms after the commit became visible (other processes on
   * the file look for changes this often: see ChangeWatch). The fsync usually takes longer already.
   */
  holdMs?: number;
  /** Told of each commit; while it has a stall, the next commit waits for it (see Checkpointer). */
  checkpoint?: { committed(): void; readonly stall: Promise<void> | undefined };
}

/**
 * Group commit with the fsync off the event loop. Changes that arrive while the previous batch's
 * fsync runs share the next transaction: it commits (without syncing) as soon as that fsync is done,
 * then its own fsync runs in the thread pool while the event loop goes on reading requests, which
 * form the batch after. Each promise settles only after its batch's fsync, so an acknowledged change
 * is on disk, as with `synchronous = FULL`.
 *
 * Each change runs under its own savepoint, in arrival order: versions are allocated inside the
 * transaction, so several writes to one path in a batch get distinct, increasing numbers, and a
 * change that throws is rolled back alone while the others commit.
 *
 * A committed batch is visible to readers before its fsync ends. This process's reads of a path in
 * it wait for the fsync (`durable`), so nothing here serves a version a power cut could still take
 * back; another process on the same file can read it up to one fsync early.
 */
export class GroupCommit {
  readonly #db: Database;
  readonly #maxBatch: number;
  readonly #mapError: (error: unknown) => unknown;
  readonly #sync: () => Promise<void>;
  readonly #syncNow: () => void;
  readonly #syncError: (error: unknown) => unknown;
  readonly #holdMs: number;
  readonly #checkpoint: GroupCommitOptions['checkpoint'];
  /** Runs a batch in BEGIN IMMEDIATE ... COMMIT (one writer across processes, as before). */
  readonly #transaction: (batch: Pending[], outcomes: Outcome[]) => void;
  /** Called inside the transaction, better-sqlite3 makes this a SAVEPOINT ... RELEASE. */
  readonly #savepoint: (run: () => unknown) => unknown;
  #queue: Pending[] = [];
  #scheduled = false;
  /** The fsync in flight, and the paths its batch changed; undefined when none runs. */
  #syncing: { done: Promise<void>; keys: Set<string> } | undefined;
  readonly stats: GroupCommitStats = { commits: 0, changes: 0 };

  constructor(db: Database, mapError: (error: unknown) => unknown, options: GroupCommitOptions) {
    this.#db = db;
    this.#mapError = mapError;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#sync = options.sync;
    this.#syncNow = options.syncNow;
    this.#syncError = options.syncError;
    this.#holdMs = options.holdMs ?? 0;
    this.#checkpoint = options.checkpoint;
    this.#savepoint = db.transaction((run: () => unknown) => run());
    this.#transaction = db.transaction((batch: Pending[], outcomes: Outcome[]) => {
      for (const item of batch) {
        try {
          outcomes.push({ ok: true, value: this.#savepoint(item.run) });
        } catch (error) {
          // Some errors (disk full, I/O) make SQLite roll back the whole transaction: then nothing
          // of this batch is committed, so no change of it may be acknowledged.
          if (!this.#db.inTransaction) throw error;
          outcomes.push({ ok: false, error });
        }
      }
    }).immediate as unknown as (batch: Pending[], outcomes: Outcome[]) => void;
  }

  /** Queues `run` (a change to `key`) for the next commit; resolves with its result once durable. */
  enqueue<T>(key: string, run: () => T, options?: CallOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject, options, key });
      this.#schedule();
    });
  }

  /**
   * While `key` has a committed change whose fsync has not ended: a promise for that fsync (never
   * rejects). Undefined otherwise, so a read of any other path pays nothing.
   */
  durable(key?: string): Promise<void> | undefined {
    const syncing = this.#syncing;
    if (syncing === undefined || (key !== undefined && !syncing.keys.has(key))) return undefined;
    return syncing.done.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Waits for the fsync in flight, then commits and syncs everything queued, now (before close). */
  async flush(): Promise<void> {
    while (this.#syncing) await this.durable();
    while (this.#queue.length > 0) {
      const committed = this.#commitNext();
      if (committed === undefined) continue;
      let failure: unknown;
      try {
        this.#syncNow();
      } catch (error) {
        failure = error;
      }
      this.#settle(committed, failure);
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#syncing !== undefined || this.#queue.length === 0) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: requests already read from the sockets in this turn join.
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#syncing !== undefined) return;
    const stall = this.#checkpoint?.stall;
    if (stall !== undefined) {
      this.#scheduled = true;
      void stall.then(() => {
        this.#scheduled = false;
        this.#schedule();
      });
      return;
    }
    const committed = this.#commitNext();
    if (committed === undefined) {
      this.#schedule();
      return;
    }
    const keys = new Set(committed.live.map((item) => item.key));
    let done: Promise<void>;
    try {
      done = this.#sync();
    } catch (error) {
      done = Promise.reject(error);
    }
    this.#syncing = { done, keys };
    done.then(
      () => this.#synced(committed, undefined),
      (error: unknown) => this.#synced(committed, error ?? new Error('fsync failed')),
    );
  }

  #synced(committed: Committed, failure: unknown): void {
    this.#syncing = undefined;
    // The next batch commits now; this one's acknowledgements go out when its hold ends.
    this.#schedule();
    const wait = committed.visibleAt + this.#holdMs - performance.now();
    if (wait <= 0 || failure !== undefined) this.#settle(committed, failure);
    else this.#settleAfterHold(committed);
  }

  /** A timer can fire early against the clock (libuv measures from the loop's cached time): re-check. */
  #settleAfterHold(committed: Committed): void {
    const wait = committed.visibleAt + this.#holdMs - performance.now();
    if (wait <= 0) this.#settle(committed, undefined);
    else setTimeout(() => this.#settleAfterHold(committed), Math.ceil(wait));
  }

  /** Commits the next batch without syncing; undefined when nothing in it was still wanted. */
  #commitNext(): Committed | undefined {
    const all = this.#queue;
    const batch = all.length > this.#maxBatch ? all.splice(0, this.#maxBatch) : all;
    if (batch === all) this.#queue = [];
    // A change whose deadline passed while it waited was (or is about to be) answered as timed out:
    // skip it. The deadline is read rather than the signal, which would cost an AbortController.
    const now = performance.now();
    const live = batch.filter((item) => {
      const gone = expired(item.options, now);
      if (gone !== undefined) item.reject(gone);
      return gone === undefined;
    });
    if (live.length === 0) return undefined;
    const outcomes: Outcome[] = [];
    try {
      this.#transaction(live, outcomes);
    } catch (error) {
      // BEGIN (busy past the timeout), COMMIT or a whole-transaction rollback failed: nothing is on disk.
      const mapped = this.#mapError(error);
      for (const item of live) item.reject(mapped);
      return undefined;
    }
    this.stats.commits++;
    this.stats.changes += live.length;
    const visibleAt = performance.now();
    this.#checkpoint?.committed();
    return { live, outcomes, visibleAt };
  }

  /**
   * After the fsync: each change gets its outcome. When the fsync failed, none is known to be on
   * disk, so every change of the batch fails (the store may still hold some: a failed write may
   * have happened, as with any backend's error).
   */
  #settle({ live, outcomes }: Committed, failure: unknown): void {
    const mappedFailure = failure === undefined ? undefined : this.#syncError(failure);
    live.forEach((item, i) => {
      const outcome = outcomes[i] as Outcome;
      if (mappedFailure !== undefined) item.reject(mappedFailure);
      else if (outcome.ok) item.resolve(outcome.value);
      else item.reject(this.#mapError(outcome.error));
    });
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Why a change is no longer wanted, or undefined when it still is. */
function expired(options: CallOptions | undefined, now: number): unknown {
  if (options === undefined) return undefined;
  if (options.deadline !== undefined) {
    return now >= options.deadline
      ? new BackendUnavailableError('timeout', 'the write waited past its deadline for its commit')
      : undefined;
  }
  return options.signal?.aborted ? options.signal.reason : undefined;
}

interface Committed {
  live: Pending[];
  outcomes: Outcome[];
  /** performance.now() just after COMMIT returned: other connections can see the batch from then. */
  visibleAt: number;
}
