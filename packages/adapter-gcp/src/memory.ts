/**
 * The newest ENABLED version the last ListSecretVersions found, per secret, for as long as its
 * `latest` alias fails (the newest version is destroyed). ListSecretVersions spends the project's
 * 600 reads/min (AccessSecretVersion has its own 90,000/min), so an uncached read of such a path
 * checks the remembered version with one access call instead of listing again.
 *
 * Why that stays correct: the alias is always asked first, so a newer version written anywhere is
 * served by it; the remembered version is served only when its own access answers (a destroyed or
 * disabled one fails, and is forgotten); this adapter forgets a path it writes or deletes. What it
 * cannot see is another replica writing a version *and* destroying it again (the alias then still
 * fails, and the version below it is newer than the one remembered): entries expire after `ttlMs`,
 * which bounds that to one TTL, like the gateway's read cache.
 */
export class LatestMemory {
  readonly #entries = new Map<string, { version: number; until: number }>();

  constructor(
    readonly maxEntries = 10_000,
    readonly ttlMs = 30_000,
    readonly now: () => number = () => Date.now(),
  ) {}

  get(secret: string): number | undefined {
    const entry = this.#entries.get(secret);
    if (!entry) return undefined;
    this.#entries.delete(secret);
    if (entry.until <= this.now()) return undefined;
    this.#entries.set(secret, entry); // most recently used last
    return entry.version;
  }

  set(secret: string, version: number): void {
    this.#entries.delete(secret);
    this.#entries.set(secret, { version, until: this.now() + this.ttlMs });
    // Bounded: the least recently used go first (a Map iterates in insertion order).
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  forget(secret: string): void {
    this.#entries.delete(secret);
  }

  get size(): number {
    return this.#entries.size;
  }
}
