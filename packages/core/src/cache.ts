import type { StoredSecret } from './adapter.ts';

/**
 * The read cache in front of any adapter (in memory only: values are never written to disk).
 * Entries are keyed by path and version ("latest" or a number). Every write or delete through the
 * gateway invalidates the path: its entries go, and a read that started before the invalidation
 * cannot fill the cache with what it saw (each load carries a ticket from a logical clock).
 */
export interface CacheOptions {
  /** How long a found secret is served from memory, in ms. */
  ttlMs: number;
  /** How long "not found" is remembered, in ms (0: never). */
  negativeTtlMs?: number;
  /** Most entries held; the least recently used go first. */
  maxEntries?: number;
  /** Most value bytes held (UTF-16 estimate of the strings); the least recently used go first. */
  maxBytes?: number;
  /**
   * After an entry expires, how long it may still be served when the backend is unavailable
   * (down, throttling, past the deadline), in ms. 0: never serve stale.
   */
  staleIfErrorMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export type CacheResult = 'hit' | 'miss' | 'stale' | 'coalesced';

interface Entry {
  path: string;
  found: StoredSecret | null;
  expiresAt: number;
  staleUntil: number;
  bytes: number;
  /** Insertion number of its place in the recency order. */
  seq: number;
}

export interface CacheLookup {
  found: StoredSecret | null;
  fresh: boolean;
  /** Still servable if the backend fails. */
  servableStale: boolean;
}

const LATEST = 'latest';

export class ReadCache {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly staleIfErrorMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #keysByPath = new Map<string, Set<string>>();
  /** Logical clock: bumped by every invalidation and every load start. */
  #clock = 0;
  /** path -> clock value of its last invalidation (pruned once no load could care). */
  readonly #invalidatedAt = new Map<string, number>();
  /** Loads that began before this clock value may not fill the cache (set by `clear`). */
  #clearedAt = 0;
  /** Tickets of loads still running. */
  readonly #active = new Set<number>();
  readonly #inflight = new Map<string, Promise<StoredSecret | null>>();
  #bytes = 0;
  /** Bumped by every insertion into the recency order. */
  #seq = 0;

  constructor(options: CacheOptions) {
    this.ttlMs = options.ttlMs;
    this.negativeTtlMs = options.negativeTtlMs ?? 0;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 0;
    this.#now = options.now ?? Date.now;
  }

  static key(path: string, version: number | undefined): string {
    return `${path}#${version ?? LATEST}`;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Starts a backend load; pass the ticket to `fill` and then to `end`. */
  begin(): number {
    const ticket = ++this.#clock;
    this.#active.add(ticket);
    return ticket;
  }

  end(ticket: number): void {
    this.#active.delete(ticket);
  }

  lookup(key: string): CacheLookup | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const now = this.#now();
    if (now >= entry.staleUntil && now >= entry.expiresAt) {
      this.#remove(key, entry);
      return undefined;
    }
    this.#touch(key, entry);
    return { found: entry.found, fresh: now < entry.expiresAt, servableStale: now < entry.staleUntil };
  }

  /**
   * The found secret of a fresh entry, else undefined (absent, expired, or cached as not found).
   * The same object on every hit until the entry goes: callers may key derived data on it.
   */
  fresh(key: string): Readonly<StoredSecret> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.found === null || this.#now() >= entry.expiresAt) return undefined;
    this.#touch(key, entry);
    return entry.found;
  }

  /**
   * Refreshes recency (Map iteration order is insertion order) only for entries in the older half
   * that are not already the newest: a hot key is moved at most once per size/2 insertions, not on
   * every hit, and eviction still takes entries that were not read since the newer half filled.
   */
  #touch(key: string, entry: Entry): void {
    if (entry.seq !== this.#seq && this.#seq - entry.seq >= this.#entries.size >> 1) {
      this.#entries.delete(key);
      entry.seq = ++this.#seq;
      this.#entries.set(key, entry);
    }
  }

  /** Stores what a load saw, unless the path was invalidated after the load began. */
  fill(key: string, path: string, found: StoredSecret | null, ticket: number): void {
    if (ticket < this.#clearedAt || (this.#invalidatedAt.get(path) ?? 0) > ticket) return;
    const ttl = found === null ? this.negativeTtlMs : this.ttlMs;
    if (ttl <= 0) return;
    const bytes = found === null ? 0 : found.value.length * 2 + key.length * 2;
    if (bytes > this.maxBytes) return;
    const old = this.#entries.get(key);
    if (old) this.#remove(key, old);
    const now = this.#now();
    const expiresAt = now + ttl;
    const entry: Entry = {
      path,
      // Its own object: the adapter may reuse what it returned, and `fresh` hands this one out.
      found: found === null ? null : { value: found.value, version: found.version },
      expiresAt,
      staleUntil: found === null ? expiresAt : expiresAt + this.staleIfErrorMs,
      bytes,
      seq: ++this.#seq,
    };
    this.#entries.set(key, entry);
    this.#bytes += bytes;
    let keys = this.#keysByPath.get(path);
    if (!keys) {
      keys = new Set();
      this.#keysByPath.set(path, keys);
    }
    keys.add(key);
    this.#evict();
  }

  /** Drops every entry of `path` and makes in-flight reads of it unable to refill the cache. */
  invalidate(path: string): void {
    this.#invalidatedAt.set(path, ++this.#clock);
    if (this.#invalidatedAt.size > this.maxEntries) this.#pruneInvalidations();
    const keys = this.#keysByPath.get(path);
    if (keys) {
      for (const key of keys) {
        const entry = this.#entries.get(key);
        if (entry) this.#remove(key, entry);
        this.#inflight.delete(key);
      }
    }
    for (const key of this.#inflight.keys()) if (key.startsWith(`${path}#`)) this.#inflight.delete(key);
  }

  /** Drops everything; loads already running cannot refill it. */
  clear(): void {
    this.#clearedAt = ++this.#clock;
    this.#entries.clear();
    this.#keysByPath.clear();
    this.#inflight.clear();
    this.#bytes = 0;
  }

  /** Removes entries past their stale window, so values do not outlive their TTL in memory. */
  sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (now >= entry.staleUntil && now >= entry.expiresAt) this.#remove(key, entry);
    }
  }

  /** An invalidation older than every running load can no longer stop a fill: forget it. */
  #pruneInvalidations(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const ticket of this.#active) if (ticket < oldest) oldest = ticket;
    for (const [path, at] of this.#invalidatedAt) if (at < oldest) this.#invalidatedAt.delete(path);
  }

  /**
   * Runs `load` once for concurrent callers of the same key; later callers share its promise.
   * Returns whether this caller joined someone else's load.
   */
  coalesce(
    key: string,
    load: () => Promise<StoredSecret | null>,
  ): { promise: Promise<StoredSecret | null>; joined: boolean } {
    const existing = this.#inflight.get(key);
    if (existing) return { promise: existing, joined: true };
    const promise = load().finally(() => {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return { promise, joined: false };
  }

  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    const keys = this.#keysByPath.get(entry.path);
    keys?.delete(key);
    if (keys?.size === 0) this.#keysByPath.delete(entry.path);
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && this.#bytes <= this.maxBytes) return;
      this.#remove(key, entry);
    }
  }
}
