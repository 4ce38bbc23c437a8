/**
 * The contract between Secret Gateway and a storage backend. Small and async on purpose: an adapter
 * maps paths and versions onto its backend; SecretService (service.ts) owns validation, limits,
 * deadlines and retries, so an adapter never re-checks what core already checked.
 */

/** Bumped when the interface changes incompatibly; adapters declare the version they implement. */
export const ADAPTER_CONTRACT_VERSION = 1 as const;

export interface AdapterCapabilities {
  /**
   * Largest value, in UTF-8 bytes, the backend can store. SecretService answers 413 for anything
   * above min(this, the configured limit) without calling the adapter (Azure: 25 KB).
   */
  readonly maxValueBytes: number;
  /**
   * Longest path, in bytes, the adapter accepts. Must be at least 1024 (contract.md §2) for an adapter
   * that claims full conformance; adapters hash names that are too long for their backend.
   */
  readonly maxPathBytes: number;
  /**
   * True when concurrent writers from several gateway replicas always get distinct versions (CAS,
   * transactions). When false, SecretService still serialises writes to one path inside its own
   * process, and the adapter's README documents the cross-replica window.
   */
  readonly atomicVersionsAcrossReplicas: boolean;
  /** True when `list(prefix)` is implemented. When false, listing features answer "not supported". */
  readonly list: boolean;
  /**
   * True when every call does all its work on the calling thread before it returns its promise
   * (an embedded store such as SQLite). No timer can fire during such a call, so SecretService
   * arms no deadline for it: measured, the timer and the race cost about 13 us of an uncached read.
   * Leave it unset for anything that waits on I/O.
   */
  readonly synchronous?: boolean;
  /**
   * The same promise for `read`, `list` and `check` only: an embedded store whose reads run on the
   * calling thread but whose writes wait for something (SQLite's group commit waits for the batch's
   * commit). SecretService arms no deadline for those three and the usual one for the rest.
   */
  readonly synchronousReads?: boolean;
  /**
   * With `externalChanges`: how old, in ms, the check behind its answer may be (an adapter whose
   * check is too costly for every cache hit runs it at most this often). SecretService then holds
   * back the acknowledgement of every write and delete until this long after the backend call
   * returned, so in any process a read that arrives after the acknowledgement is served after a
   * check that began after the commit. 0 or unset: every call checks, nothing is held back.
   */
  readonly externalChangesWindowMs?: number;
  /**
   * The adapter's writes and deletes resolve no sooner than `externalChangesWindowMs` after their
   * change became visible to other processes (it knows that moment better than SecretService, which
   * then holds nothing back itself).
   */
  readonly holdsBackAcknowledgements?: boolean;
}

export interface CallOptions {
  /** Aborted when SecretService's deadline for this call passes; adapters hand it to their SDK. */
  signal?: AbortSignal;
  /**
   * That deadline as a `performance.now()` time. Reading it costs nothing, while the first read of
   * `signal` makes an AbortController: an adapter that only needs to know whether the answer is
   * still wanted (a queued write) compares against this instead.
   */
  deadline?: number;
}

export interface StoredSecret {
  value: string;
  version: number;
}

export interface BackendAdapter {
  readonly contractVersion: typeof ADAPTER_CONTRACT_VERSION;
  /** Short stable name used in logs and metric labels: `sqlite`, `vault`, `aws`, ... */
  readonly name: string;
  readonly capabilities: AdapterCapabilities;

  /** Stores a new version and returns its number (1 for a new or fully deleted path). */
  write(path: string, value: string, options?: CallOptions): Promise<number>;
  /**
   * Latest live version when `version` is undefined, else that version. `null` when absent or
   * deleted; never conflate absent with the empty string.
   */
  read(path: string, version: number | undefined, options?: CallOptions): Promise<StoredSecret | null>;
  /** Removes every version; a later write starts again at 1. `false` when the path did not exist. */
  deleteSecret(path: string, options?: CallOptions): Promise<boolean>;
  /** Removes one version for good. `false` when the path or that version did not exist (or was deleted). */
  deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean>;
  /** Resolves when the backend is reachable and usable; throws BackendUnavailableError otherwise. */
  check(options?: CallOptions): Promise<void>;
  /** Releases connections and handles. Idempotent. */
  close(): Promise<void>;
  /** Paths under `prefix` that have a live version, sorted. Present when `capabilities.list`. */
  list?(prefix: string, options?: CallOptions): Promise<string[]>;
  /**
   * For stores other processes write to directly (several gateways on one SQLite file): true when
   * another process committed to the store since the last call. SecretService asks before serving
   * anything from its read cache and drops the whole cache on true, so a value another process
   * deleted or replaced is not served for the cache TTL. Runs on every cache hit: synchronous,
   * cheap (see `capabilities.externalChangesWindowMs`), and it must not throw (answer true when unsure).
   */
  externalChanges?(): boolean;
}
