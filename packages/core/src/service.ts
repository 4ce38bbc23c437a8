import type { BackendAdapter, CallOptions, StoredSecret } from './adapter.ts';
import { type CacheOptions, type CacheResult, ReadCache } from './cache.ts';
import { KeyedMutex, retryOnConflict, withDeadline } from './deadline.ts';
import {
  type BackendDetail,
  BackendUnavailableError,
  InvalidPathError,
  InvalidRequestError,
  SecretGatewayError,
  SecretNotFoundError,
  ValueTooLargeError,
} from './errors.ts';
import { DEFAULT_ROOT, parseSecretPath, validateRoot } from './paths.ts';
import { valueBytes } from './versions.ts';

export interface SecretServiceOptions {
  /** Root every path lives under (default `tfy-secret`). */
  root?: string;
  /** Gateway-wide value limit in UTF-8 bytes (default 64 KiB); the adapter's own limit applies if lower. */
  maxValueBytes?: number;
  /** Deadline for each backend call, in milliseconds (default 5000). */
  deadlineMs?: number;
  /** How many times a write that lost a version race is retried (default 8). */
  writeRetries?: number;
  /** Observes every backend call (metrics). Must not throw. */
  onBackendCall?: (event: BackendCallEvent) => void;
  /** Read cache in front of the adapter; absent means every read goes to the backend. */
  cache?: CacheOptions;
  /** Observes every cached read (metrics). Must not throw. */
  onCacheEvent?: (result: CacheResult) => void;
}

export type BackendOperation = 'write' | 'read' | 'delete_secret' | 'delete_version' | 'check' | 'list';

export interface BackendCallEvent {
  adapter: string;
  operation: BackendOperation;
  /** `ok`, or the error code the call ended with. */
  outcome: string;
  durationMs: number;
}

/** What a synchronous adapter's calls get: a signal that never fires (`synchronous`, `synchronousReads`). */
const NO_DEADLINE: CallOptions = { signal: new AbortController().signal };

export interface SecretRecord {
  path: string;
  version: number;
  value: string;
  /** How the cache answered, when there is one (`stale`: the backend failed and this is the last known value). */
  cache?: CacheResult;
}

/** With the u flag a well-formed pair is one code point, so only an unpaired surrogate matches. */
const LONE_SURROGATE = /\p{Cs}/u;

export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024;

/**
 * The gateway's behaviour, on top of any adapter: path rules, size limits, not-found handling,
 * deadlines and retries. Routes call this and nothing else.
 */
export class SecretService {
  readonly adapter: BackendAdapter;
  readonly root: string;
  readonly maxValueBytes: number;
  readonly deadlineMs: number;
  readonly #writeRetries: number;
  readonly #writes = new KeyedMutex();
  readonly #onBackendCall: ((event: BackendCallEvent) => void) | undefined;
  readonly #onCacheEvent: ((result: CacheResult) => void) | undefined;
  readonly cache: ReadCache | undefined;
  readonly #sweeper: NodeJS.Timeout | undefined;
  /** How long acknowledgements of writes and deletes are held back (see `externalChangesWindowMs`). */
  readonly #changeWindowMs: number;
  /** The operations the adapter completes on the calling thread: no deadline timer for them. */
  readonly #noDeadline: Readonly<Record<BackendOperation, boolean>>;

  constructor(adapter: BackendAdapter, options: SecretServiceOptions = {}) {
    this.adapter = adapter;
    this.root = validateRoot(options.root ?? DEFAULT_ROOT);
    this.maxValueBytes = Math.min(
      options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
      adapter.capabilities.maxValueBytes,
    );
    this.deadlineMs = options.deadlineMs ?? 5000;
    this.#writeRetries = options.writeRetries ?? 8;
    this.#onBackendCall = options.onBackendCall;
    this.#onCacheEvent = options.onCacheEvent;
    const { synchronous = false, synchronousReads = false } = adapter.capabilities;
    const reads = synchronous || synchronousReads;
    this.#noDeadline = {
      read: reads,
      list: reads,
      check: reads,
      write: synchronous,
      delete_secret: synchronous,
      delete_version: synchronous,
    };
    this.#changeWindowMs =
      adapter.externalChanges && !adapter.capabilities.holdsBackAcknowledgements
        ? (adapter.capabilities.externalChangesWindowMs ?? 0)
        : 0;
    if (options.cache && options.cache.ttlMs > 0) {
      const cache = new ReadCache(options.cache);
      this.cache = cache;
      // Expired values leave memory on a timer, not only when looked up again.
      this.#sweeper = setInterval(() => cache.sweep(), Math.max(250, Math.min(cache.ttlMs, 5000)));
      this.#sweeper.unref();
    }
  }

  /** Validates a path (contract.md §2) and the adapter's own length limit. */
  parsePath(input: unknown): string {
    const path = parseSecretPath(input, this.root);
    if (Buffer.byteLength(path) > this.adapter.capabilities.maxPathBytes) {
      throw new InvalidPathError(
        `path must be at most ${this.adapter.capabilities.maxPathBytes} bytes on the ${this.adapter.name} backend`,
      );
    }
    return path;
  }

  async put(pathInput: unknown, value: unknown): Promise<{ path: string; version: number }> {
    const path = this.parsePath(pathInput);
    if (typeof value !== 'string') throw new InvalidRequestError('value must be a string');
    // JSON can carry a lone surrogate (\ud800); UTF-8 cannot, and would store U+FFFD instead.
    if (LONE_SURROGATE.test(value)) {
      throw new InvalidRequestError('value must be valid Unicode text (it holds an unpaired surrogate)');
    }
    const size = valueBytes(value);
    if (size > this.maxValueBytes) throw new ValueTooLargeError(size, this.maxValueBytes);
    const version = await this.#writes.run(path, () =>
      retryOnConflict(
        path,
        this.#writeRetries,
        () => this.#call('write', (o) => this.adapter.write(path, value, o)),
        // Even a failed write may have reached the backend: forget what we knew either way.
      ).finally(() => this.cache?.invalidate(path)),
    );
    await this.#holdBack(performance.now());
    return { path, version };
  }

  /** Latest live version, or the given one. Throws SecretNotFoundError when absent. */
  async get(pathInput: unknown, version?: number): Promise<SecretRecord> {
    const path = this.parsePath(pathInput);
    if (!this.cache) {
      const found = await this.#call('read', (o) => this.adapter.read(path, version, o));
      if (found === null) throw new SecretNotFoundError(path, version);
      return { path, version: found.version, value: found.value };
    }
    const { found, result } = await this.#cachedRead(this.cache, path, version);
    this.#onCacheEvent?.(result);
    if (found === null) throw new SecretNotFoundError(path, version);
    return { path, version: found.version, value: found.value, cache: result };
  }

  /**
   * A fresh cached answer, synchronously, or undefined (no cache, not cached, expired, or cached as
   * absent). Lets the gateway answer a cache hit without a promise; on undefined, call `get`. The
   * object is the cache entry's own, the same on every hit until the entry goes; do not change it.
   */
  peek(path: string, version?: number): Readonly<StoredSecret> | undefined {
    const cache = this.cache;
    if (cache === undefined) return undefined;
    if (this.adapter.externalChanges?.()) cache.clear();
    const found = cache.fresh(ReadCache.key(path, version));
    if (found !== undefined) this.#onCacheEvent?.('hit');
    return found;
  }

  async #cachedRead(
    cache: ReadCache,
    path: string,
    version: number | undefined,
  ): Promise<{ found: StoredSecret | null; result: CacheResult }> {
    const key = ReadCache.key(path, version);
    // Another process changed the store: anything cached may be gone or replaced there.
    if (this.adapter.externalChanges?.()) cache.clear();
    const cached = cache.lookup(key);
    if (cached?.fresh) return { found: cached.found, result: 'hit' };
    const { promise, joined } = cache.coalesce(key, async () => {
      const ticket = cache.begin();
      try {
        const found = await this.#call('read', (o) => this.adapter.read(path, version, o));
        cache.fill(key, path, found, ticket);
        return found;
      } finally {
        cache.end(ticket);
      }
    });
    try {
      return { found: await promise, result: joined ? 'coalesced' : 'miss' };
    } catch (error) {
      // stale-if-error: the backend is down or throttling and we still know a recent answer.
      if (
        cached?.servableStale &&
        SecretGatewayError.isInstance(error) &&
        error.code === 'backend_unavailable'
      ) {
        return { found: cached.found, result: 'stale' };
      }
      throw error;
    }
  }

  /** Deletes every version, or one. Throws SecretNotFoundError when there was nothing to delete. */
  async delete(pathInput: unknown, version?: number): Promise<void> {
    const path = this.parsePath(pathInput);
    const deleted = await this.#writes.run(path, () =>
      (version === undefined
        ? this.#call('delete_secret', (o) => this.adapter.deleteSecret(path, o))
        : this.#call('delete_version', (o) => this.adapter.deleteVersion(path, version, o))
      ).finally(() => this.cache?.invalidate(path)),
    );
    if (!deleted) throw new SecretNotFoundError(path, version);
    await this.#holdBack(performance.now());
  }

  /**
   * Waits until the adapter's change window has passed since `since` (just after the commit), so
   * every other process sharing the store has checked for changes after the commit before the
   * client hears it is done (see `capabilities.externalChangesWindowMs`).
   */
  async #holdBack(since: number): Promise<void> {
    const window = this.#changeWindowMs;
    // A timer can fire early against the clock (libuv measures from the loop's cached time): re-check.
    for (let left = window; left > 0; left = window - (performance.now() - since)) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
    }
  }

  /**
   * Resolves when the backend is ready (reachable, authenticated, permitted); otherwise throws the
   * adapter's typed error, whose message names the cause. Anything else is wrapped as unavailable.
   */
  async check(): Promise<void> {
    try {
      await this.#call('check', (o) => this.adapter.check(o));
    } catch (error) {
      if (SecretGatewayError.isInstance(error)) throw error;
      throw new BackendUnavailableError('unreachable', 'backend is not ready', { cause: error });
    }
  }

  close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.cache?.clear();
    return this.adapter.close();
  }

  async #call<T>(operation: BackendOperation, fn: (options: CallOptions) => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      if (this.#noDeadline[operation]) return await fn(NO_DEADLINE);
      return await withDeadline(this.deadlineMs, operation, fn, this.adapter.name);
    } catch (error) {
      outcome = SecretGatewayError.isInstance(error) ? error.code : 'internal';
      // Every cause in the operator's log names its backend and operation, including the errors
      // an adapter raises itself (a deadline, a malformed answer) rather than through its mapping.
      if (SecretGatewayError.isInstance(error) && error.detail === undefined) {
        (error as { detail?: BackendDetail }).detail = { backend: this.adapter.name, operation };
      }
      throw error;
    } finally {
      this.#onBackendCall?.({
        adapter: this.adapter.name,
        operation,
        outcome,
        durationMs: performance.now() - started,
      });
    }
  }
}
