import type { Database, Statement } from 'better-sqlite3';

/**
 * Notices commits that other connections (other gateway processes on the same file) made, through
 * SQLite's `PRAGMA data_version`: it changes when another connection commits, never on this
 * connection's own commits.
 *
 * The pragma costs about 4 us (it takes and drops a WAL read lock: two fcntl calls; reading the
 * -shm header ourselves costs 2.3 us), too much for every cache hit of a ~25 us request. So it runs
 * at most once per `windowMs`, and SecretService holds back the acknowledgement of every write and
 * delete for the same window (`capabilities.externalChangesWindowMs`): a read that arrives in this
 * process after another process acknowledged a change is therefore served after a check that
 * began after the commit, and that check saw it.
 */
export class ChangeWatch {
  readonly #dataVersion: Statement;
  readonly #windowMs: number;
  readonly #now: () => number;
  #seen: number;
  #checkedAt: number;

  constructor(db: Database, windowMs: number, now: () => number = () => performance.now()) {
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#windowMs = windowMs;
    this.#now = now;
    this.#checkedAt = now();
    this.#seen = this.#dataVersion.get() as number;
  }

  /** True when another connection committed since the last check that ran. Never throws. */
  changed(): boolean {
    const now = this.#now();
    if (now - this.#checkedAt < this.#windowMs) return false;
    // The time before the pragma: its answer covers every commit up to at least this moment.
    this.#checkedAt = now;
    let version: number;
    try {
      version = this.#dataVersion.get() as number;
    } catch {
      // Cannot tell: say "changed", so the cache is dropped and the next read asks the store.
      return true;
    }
    if (version === this.#seen) return false;
    this.#seen = version;
    return true;
  }
}
