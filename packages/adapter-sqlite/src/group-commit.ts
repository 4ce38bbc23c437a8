import type { Database } from 'better-sqlite3';

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

/** Commits and the changes they carried since start: changes / commits is the batch size. */
export interface GroupCommitStats {
  commits: number;
  changes: number;
}

/**
 * Group commit: writes and deletes that arrive in the same event-loop turn share one transaction,
 * so one fsync (synchronous = FULL) makes them all durable; each promise settles only after that
 * commit. better-sqlite3 is synchronous, so while one commit waits for the disk, the next requests
 * queue up in the sockets and form the next batch.
 *
 * Each change runs under its own savepoint, in arrival order: versions are allocated inside the
 * transaction, so several writes to one path in a batch get distinct, increasing numbers, and a
 * change that throws is rolled back alone while the others commit.
 */
export class GroupCommit {
  readonly #db: Database;
  readonly #maxBatch: number;
  readonly #mapError: (error: unknown) => unknown;
  /** Runs a batch in BEGIN IMMEDIATE ... COMMIT (one writer across processes, as before). */
  readonly #transaction: (batch: Pending[], outcomes: Outcome[]) => void;
  /** Called inside the transaction, better-sqlite3 makes this a SAVEPOINT ... RELEASE. */
  readonly #savepoint: (run: () => unknown) => unknown;
  readonly #gapMs: number;
  #queue: Pending[] = [];
  #scheduled = false;
  /** performance.now() when the last commit ended. */
  #lastCommit = Number.NEGATIVE_INFINITY;
  readonly stats: GroupCommitStats = { commits: 0, changes: 0 };

  /**
   * `gapMs`: the least time from the end of one commit to the start of the next. SecretService holds
   * each acknowledgement back by the store's change window after the commit; a next commit started
   * sooner would block the thread on its fsync while those acknowledgements wait, doubling their
   * latency and halving the batches. With a gap just over the window they go out first, and their
   * clients' next requests join the next batch. 0: the next turn of the event loop.
   */
  constructor(db: Database, mapError: (error: unknown) => unknown, { maxBatch = 512, gapMs = 0 } = {}) {
    this.#db = db;
    this.#gapMs = gapMs;
    this.#mapError = mapError;
    this.#maxBatch = maxBatch;
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

  /** Queues `run` for the next commit; resolves with its result once that commit is on disk. */
  enqueue<T>(run: () => T, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject, signal });
      if (!this.#scheduled) {
        this.#scheduled = true;
        const wait = this.#lastCommit + this.#gapMs - performance.now();
        // setImmediate, not a microtask: requests already read from the sockets in this turn join.
        if (wait > 0) setTimeout(() => this.#drain(), Math.ceil(wait));
        else setImmediate(() => this.#drain());
      }
    });
  }

  /** Commits everything queued, now (before close: nothing queued is dropped). */
  flush(): void {
    while (this.#queue.length > 0) this.#commitNext();
  }

  #drain(): void {
    this.#scheduled = false;
    this.flush();
  }

  #commitNext(): void {
    const all = this.#queue;
    const batch = all.length > this.#maxBatch ? all.splice(0, this.#maxBatch) : all;
    if (batch === all) this.#queue = [];
    // A change whose deadline passed while it waited was already answered as timed out: skip it.
    const live = batch.filter((item) => {
      if (item.signal?.aborted) item.reject(item.signal.reason);
      return !item.signal?.aborted;
    });
    if (live.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      this.#transaction(live, outcomes);
    } catch (error) {
      // BEGIN (busy past the timeout), COMMIT or a whole-transaction rollback failed: nothing is on disk.
      const mapped = this.#mapError(error);
      for (const item of live) item.reject(mapped);
      return;
    }
    this.#lastCommit = performance.now();
    this.stats.commits++;
    this.stats.changes += live.length;
    live.forEach((item, i) => {
      const outcome = outcomes[i] as Outcome;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(this.#mapError(outcome.error));
    });
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
