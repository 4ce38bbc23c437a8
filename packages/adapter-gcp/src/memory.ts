/**
 * What this process knows about a secret's versions that Secret Manager's reads may not show yet.
 * Only "add a version, then access it by number" is strongly consistent; `latest`, listings and
 * reads after a destroy or a delete-all are eventually consistent (docs/backends/gcp.md
 * "Consistency"). So per secret the adapter keeps:
 * - `enabled`: versions known to be enabled: its own writes (readable by number at once), and the
 *   newest a ListSecretVersions found (that listing spends the 600 reads/min; AccessSecretVersion has
 *   its own 90,000/min, so an uncached read checks a remembered number instead of listing again);
 * - `destroyed`: versions it destroyed (a stale read may still serve them);
 * - `generation`: after it deleted the secret, the numbers written since (the new secret numbers from
 *   1 again, and a stale read may still serve the old secret's versions under the same numbers).
 *
 * Entries expire `ttlMs` after their last change, which bounds what a replica cannot see: another
 * replica writing a version *and* destroying it (the alias fails, and the version below it is newer
 * than the one remembered), or writing right after this replica's delete-all (hidden until then).
 */
interface Entry {
  enabled: Set<number>;
  destroyed: Set<number>;
  generation: Set<number> | undefined;
  until: number;
}

/** Numbers kept per set: the newest matter; older ones only after many destroys in a row. */
const PER_SECRET = 64;

export class LatestMemory {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly maxEntries = 10_000,
    readonly ttlMs = 30_000,
    readonly now: () => number = () => Date.now(),
  ) {}

  #get(secret: string): Entry | undefined {
    const entry = this.#entries.get(secret);
    if (!entry) return undefined;
    this.#entries.delete(secret);
    if (entry.until <= this.now()) return undefined;
    this.#entries.set(secret, entry); // most recently used last
    return entry;
  }

  #touch(secret: string, fresh = false): Entry {
    const entry = (!fresh && this.#get(secret)) || {
      enabled: new Set<number>(),
      destroyed: new Set<number>(),
      generation: undefined,
      until: 0,
    };
    entry.until = this.now() + this.ttlMs;
    this.#entries.delete(secret);
    this.#entries.set(secret, entry);
    // Bounded: the least recently used go first (a Map iterates in insertion order).
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
    }
    return entry;
  }

  /** Enabled versions known, newest first (this process's writes and the last listing). */
  known(secret: string): number[] {
    return [...(this.#get(secret)?.enabled ?? [])].sort((a, b) => b - a);
  }

  /** This process knows version `n` is not there: it destroyed it, or deleted the secret since. */
  hidden(secret: string, n: number): boolean {
    const entry = this.#get(secret);
    if (!entry) return false;
    return entry.destroyed.has(n) || (entry.generation !== undefined && !entry.generation.has(n));
  }

  /** Version `n` is enabled: this process wrote it, or a listing found it the newest. */
  enabled(secret: string, n: number, written = false): void {
    const entry = this.#touch(secret);
    add(entry.enabled, n);
    if (written) {
      entry.destroyed.delete(n);
      if (entry.generation) add(entry.generation, n);
    }
  }

  /** Version `n` is destroyed (by this process) or no longer readable (found so by a read). */
  destroyed(secret: string, n: number, byUs = true): void {
    const entry = byUs ? this.#touch(secret) : this.#get(secret);
    if (!entry) return;
    entry.enabled.delete(n);
    if (byUs) add(entry.destroyed, n);
  }

  /** This process deleted the secret: every older version is gone; a re-created one starts at 1. */
  deletedAll(secret: string): void {
    this.#touch(secret, true).generation = new Set();
  }

  get size(): number {
    return this.#entries.size;
  }
}

function add(set: Set<number>, n: number): void {
  set.add(n);
  if (set.size > PER_SECRET) set.delete(Math.min(...set));
}
