/**
 * Vault's KV version 2 engine as state: per path, metadata (current/oldest version, max_versions,
 * cas_required) and versions with their deletion time and destroyed flag. Mirrors what
 * hashicorp/vault-plugin-secrets-kv documents and does.
 */
export interface KvVersion {
  data: Record<string, unknown> | null;
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

export interface KvSecret {
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  createdTime: string;
  updatedTime: string;
  customMetadata: Record<string, string> | null;
  /** The secret's delete_version_after in ms (0 = unset). */
  deleteVersionAfterMs: number;
  versions: Map<number, KvVersion>;
}

export class KvError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const now = () => new Date().toISOString();

/**
 * Deleted as Vault reads it (vault-plugin-secrets-kv path_data.go, pathDataRead): destroyed, or a
 * deletion_time that has passed. delete_version_after gives live versions a *future* one.
 */
export function isDeleted(entry: KvVersion, at = Date.now()): boolean {
  return entry.destroyed || (entry.deletionTime !== '' && Date.parse(entry.deletionTime) <= at);
}

/**
 * A duration as Vault's API takes it (TypeDurationSecond): a number of seconds, or Go's duration
 * text such as `90s`, `1h30m`. Undefined when malformed.
 */
export function parseDurationMs(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? Math.trunc(input) * 1000 : undefined;
  if (typeof input !== 'string') return undefined;
  if (/^-?\d+$/.test(input)) return Number(input) * 1000;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const parts = /^(-?)((?:\d+(?:ms|h|m|s))+)$/.exec(input);
  if (!parts) return undefined;
  let total = 0;
  for (const [, n, unit] of (parts[2] as string).matchAll(/(\d+)(ms|h|m|s)/g)) {
    total += Number(n) * (units[unit as string] as number);
  }
  return parts[1] === '-' ? -total : total;
}

/** Go's time.Duration.String() for whole seconds, as Vault renders delete_version_after (`1h0m0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let s = Math.abs(Math.trunc(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${sign}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/** A secret's state at one moment, for the standby's stale view. */
const cloneSecret = (secret: KvSecret): KvSecret => ({
  ...secret,
  customMetadata: secret.customMetadata ? { ...secret.customMetadata } : null,
  versions: new Map([...secret.versions].map(([v, e]) => [v, { ...e }])),
});

export class KvStore {
  readonly secrets = new Map<string, KvSecret>();

  /** The engine's `cas_required` (`<mount>/config`): every write must then carry `options.cas`. */
  mountCasRequired = false;

  /**
   * @param mountMaxVersions the engine's configured max_versions (`<mount>/config`); 0, as on a
   * fresh Vault, means Vault's built-in 10.
   */
  /**
   * The engine's delete_version_after in ms (`<mount>/config`): 0 unset, negative disabled (Vault
   * stores -1 s, which also overrides every secret's own setting).
   */
  mountDeleteVersionAfterMs = 0;

  constructor(public mountMaxVersions = 0) {}

  /** Per path, its states over time (oldest first), kept while a standby view is on. */
  #history: Map<string, Array<{ at: number; secret: KvSecret | undefined }>> | undefined;
  #keepMs = 0;

  /** Starts remembering each path's past states for `secretAt` (the standby's stale reads). */
  trackHistory(keepMs: number): void {
    this.#history ??= new Map();
    this.#keepMs = keepMs;
  }

  /** Records a path's state before and after a change (no-op unless history is on). */
  #record(path: string, change: () => void): void {
    const history = this.#history;
    if (!history) {
      change();
      return;
    }
    let states = history.get(path);
    if (!states) {
      const before = this.secrets.get(path);
      states = [{ at: Number.NEGATIVE_INFINITY, secret: before && cloneSecret(before) }];
      history.set(path, states);
    }
    try {
      change();
    } finally {
      const t = Date.now();
      const after = this.secrets.get(path);
      states.push({ at: t, secret: after && cloneSecret(after) });
      // Only the newest state older than what a standby can lag behind is ever read again.
      while (states.length > 1 && (states[1] as { at: number }).at <= t - this.#keepMs) states.shift();
    }
  }

  /** A path's metadata as it was at `at` (ms since epoch); the current one without history. */
  secretAt(path: string, at: number): KvSecret | undefined {
    const states = this.#history?.get(path);
    if (!states) return this.secrets.get(path);
    for (let i = states.length - 1; i >= 0; i--) {
      const state = states[i] as { at: number; secret: KvSecret | undefined };
      if (state.at <= at) return state.secret;
    }
    return undefined;
  }

  /**
   * When a new (or undeleted) version is due for deletion, from vault-plugin-secrets-kv
   * delete_version_after.go `deletionTime`: the shorter of the engine's and the secret's
   * delete_version_after, from `base`; '' when neither is set or the engine disables it.
   */
  #deletionTimeFor(secret: KvSecret, base: number): string {
    const mount = this.mountDeleteVersionAfterMs;
    const meta = secret.deleteVersionAfterMs;
    if (mount < 0 || (mount === 0 && meta === 0)) return '';
    let min = meta;
    if ((mount !== 0 && mount < min) || min === 0) min = mount;
    return new Date(base + min).toISOString();
  }

  /** As Vault does: the larger of the secret's and the engine's max_versions, else 10. */
  #effectiveMax(secret: KvSecret): number {
    const max = Math.max(secret.maxVersions, this.mountMaxVersions);
    return max > 0 ? max : 10;
  }

  #ensure(path: string): KvSecret {
    let secret = this.secrets.get(path);
    if (!secret) {
      const t = now();
      secret = {
        currentVersion: 0,
        oldestVersion: 0,
        maxVersions: 0,
        casRequired: false,
        createdTime: t,
        updatedTime: t,
        customMetadata: null,
        deleteVersionAfterMs: 0,
        versions: new Map(),
      };
      this.secrets.set(path, secret);
    }
    return secret;
  }

  write(
    path: string,
    data: Record<string, unknown>,
    cas: number | undefined,
  ): KvVersion & { version: number } {
    const existing = this.secrets.get(path);
    if ((this.mountCasRequired || (existing?.casRequired ?? false)) && cas === undefined) {
      throw new KvError(400, 'check-and-set parameter required for this call');
    }
    if (cas !== undefined && cas !== (existing?.currentVersion ?? 0)) {
      throw new KvError(400, 'check-and-set parameter did not match the current version');
    }
    let written: KvVersion & { version: number } = undefined as never;
    this.#record(path, () => {
      const secret = this.#ensure(path);
      const version = secret.currentVersion + 1;
      const created = Date.now();
      const entry: KvVersion = {
        data,
        createdTime: new Date(created).toISOString(),
        deletionTime: this.#deletionTimeFor(secret, created),
        destroyed: false,
      };
      secret.versions.set(version, entry);
      secret.currentVersion = version;
      secret.updatedTime = entry.createdTime;
      this.#trim(secret);
      written = { ...entry, version };
    });
    return written;
  }

  /**
   * Vault silently deletes the oldest versions beyond max_versions, only when a version is added
   * (writing a lower max_versions to metadata trims nothing until the next write). oldest_version
   * stays 0 until the first trim, as in Vault.
   */
  #trim(secret: KvSecret): void {
    const max = this.#effectiveMax(secret);
    if (secret.currentVersion - secret.oldestVersion < max) return;
    const last = secret.currentVersion - max;
    for (let v = secret.oldestVersion; v <= last; v++) secret.versions.delete(v);
    secret.oldestVersion = last + 1;
  }

  read(path: string, version?: number): { secret: KvSecret; version: number; entry: KvVersion } | undefined {
    return this.readFrom(this.secrets.get(path), version);
  }

  /** A version (latest when none given) of a secret's state, current or a standby's stale one. */
  readFrom(
    secret: KvSecret | undefined,
    version?: number,
  ): { secret: KvSecret; version: number; entry: KvVersion } | undefined {
    if (!secret) return undefined;
    const v = version && version > 0 ? version : secret.currentVersion;
    const entry = secret.versions.get(v);
    return entry ? { secret, version: v, entry } : undefined;
  }

  /**
   * Soft-deletes versions (latest when none given); unknown versions are ignored, as in Vault. A
   * version whose deletion_time lies in the future (delete_version_after) is live: it is deleted now.
   */
  softDelete(path: string, versions?: number[]): void {
    const secret = this.secrets.get(path);
    if (!secret) return;
    this.#record(path, () => {
      for (const v of versions ?? [secret.currentVersion]) {
        const entry = secret.versions.get(v);
        if (entry && !isDeleted(entry)) entry.deletionTime = now();
      }
    });
  }

  /** Undeleting restarts the delete_version_after clock (path_delete.go, pathUndeleteWrite). */
  undelete(path: string, versions: number[]): void {
    const secret = this.secrets.get(path);
    if (!secret) return;
    this.#record(path, () => {
      for (const v of versions) {
        const entry = secret.versions.get(v);
        if (entry && !entry.destroyed) entry.deletionTime = this.#deletionTimeFor(secret, Date.now());
      }
    });
  }

  destroy(path: string, versions: number[]): void {
    const secret = this.secrets.get(path);
    if (!secret) return;
    this.#record(path, () => {
      for (const v of versions) {
        const entry = secret.versions.get(v);
        if (entry) {
          entry.destroyed = true;
          entry.data = null;
        }
      }
    });
  }

  writeMetadata(
    path: string,
    body: {
      max_versions?: number;
      cas_required?: boolean;
      custom_metadata?: Record<string, string>;
      delete_version_after?: unknown;
    },
  ): void {
    const deleteAfter =
      body.delete_version_after === undefined ? undefined : parseDurationMs(body.delete_version_after);
    if (body.delete_version_after !== undefined && deleteAfter === undefined) {
      throw new KvError(400, 'error converting input for field "delete_version_after"');
    }
    this.#record(path, () => {
      const secret = this.#ensure(path);
      if (body.max_versions !== undefined) secret.maxVersions = body.max_versions;
      if (body.cas_required !== undefined) secret.casRequired = body.cas_required;
      if (body.custom_metadata !== undefined) secret.customMetadata = body.custom_metadata;
      if (deleteAfter !== undefined) secret.deleteVersionAfterMs = deleteAfter;
      secret.updatedTime = now();
    });
  }

  deleteMetadata(path: string): void {
    this.#record(path, () => {
      this.secrets.delete(path);
    });
  }

  /** Keys directly under a folder, folders with a trailing slash, as Vault's LIST answers. */
  list(folder: string): string[] {
    const prefix = folder === '' || folder.endsWith('/') ? folder : `${folder}/`;
    const keys = new Set<string>();
    for (const path of this.secrets.keys()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return [...keys].sort();
  }
}

export function metadataBody(secret: KvSecret) {
  return {
    cas_required: secret.casRequired,
    created_time: secret.createdTime,
    current_version: secret.currentVersion,
    custom_metadata: secret.customMetadata,
    delete_version_after: formatDuration(secret.deleteVersionAfterMs),
    max_versions: secret.maxVersions,
    oldest_version: secret.oldestVersion,
    updated_time: secret.updatedTime,
    versions: Object.fromEntries(
      [...secret.versions].map(([v, e]) => [
        String(v),
        { created_time: e.createdTime, deletion_time: e.deletionTime, destroyed: e.destroyed },
      ]),
    ),
  };
}
