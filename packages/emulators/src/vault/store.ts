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

export class KvStore {
  readonly secrets = new Map<string, KvSecret>();

  /** The engine's `cas_required` (`<mount>/config`): every write must then carry `options.cas`. */
  mountCasRequired = false;

  /**
   * @param mountMaxVersions the engine's configured max_versions (`<mount>/config`); 0, as on a
   * fresh Vault, means Vault's built-in 10.
   */
  constructor(public mountMaxVersions = 0) {}

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
    const secret = this.#ensure(path);
    const version = secret.currentVersion + 1;
    const entry: KvVersion = { data, createdTime: now(), deletionTime: '', destroyed: false };
    secret.versions.set(version, entry);
    secret.currentVersion = version;
    secret.updatedTime = entry.createdTime;
    this.#trim(secret);
    return { ...entry, version };
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
    const secret = this.secrets.get(path);
    if (!secret) return undefined;
    const v = version && version > 0 ? version : secret.currentVersion;
    const entry = secret.versions.get(v);
    return entry ? { secret, version: v, entry } : undefined;
  }

  /** Soft-deletes versions (latest when none given); unknown versions are ignored, as in Vault. */
  softDelete(path: string, versions?: number[]): void {
    const secret = this.secrets.get(path);
    if (!secret) return;
    for (const v of versions ?? [secret.currentVersion]) {
      const entry = secret.versions.get(v);
      if (entry && !entry.destroyed && entry.deletionTime === '') entry.deletionTime = now();
    }
  }

  undelete(path: string, versions: number[]): void {
    const secret = this.secrets.get(path);
    for (const v of versions) {
      const entry = secret?.versions.get(v);
      if (entry && !entry.destroyed) entry.deletionTime = '';
    }
  }

  destroy(path: string, versions: number[]): void {
    const secret = this.secrets.get(path);
    for (const v of versions) {
      const entry = secret?.versions.get(v);
      if (entry) {
        entry.destroyed = true;
        entry.data = null;
      }
    }
  }

  writeMetadata(
    path: string,
    body: { max_versions?: number; cas_required?: boolean; custom_metadata?: Record<string, string> },
  ): void {
    const secret = this.#ensure(path);
    if (body.max_versions !== undefined) secret.maxVersions = body.max_versions;
    if (body.cas_required !== undefined) secret.casRequired = body.cas_required;
    if (body.custom_metadata !== undefined) secret.customMetadata = body.custom_metadata;
    secret.updatedTime = now();
  }

  deleteMetadata(path: string): void {
    this.secrets.delete(path);
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
    delete_version_after: '0s',
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
