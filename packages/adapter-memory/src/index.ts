import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  latestLiveVersion,
  nextVersion,
  type StoredSecret,
  type VersionState,
} from '@secret-gateway/core';

/**
 * The smallest complete adapter, and the example to copy when writing one. Not durable: everything
 * is lost when the process exits. Several adapters can share one `MemoryStore` to act as replicas.
 */
export class MemoryStore {
  /** path -> version -> value (`undefined` once deleted: the number stays taken). */
  readonly secrets = new Map<string, Map<number, string | undefined>>();
}

function states(versions: Map<number, string | undefined>): VersionState[] {
  return [...versions].map(([version, value]) => ({ version, deleted: value === undefined }));
}

export class MemoryAdapter implements BackendAdapter {
  readonly contractVersion = ADAPTER_CONTRACT_VERSION;
  readonly name = 'memory';
  readonly capabilities: AdapterCapabilities = {
    maxValueBytes: Number.MAX_SAFE_INTEGER,
    maxPathBytes: Number.MAX_SAFE_INTEGER,
    // Every operation runs synchronously on one shared Map, so versions cannot collide.
    atomicVersionsAcrossReplicas: true,
    list: true,
  };
  readonly store: MemoryStore;

  constructor(store: MemoryStore = new MemoryStore()) {
    this.store = store;
  }

  async write(path: string, value: string): Promise<number> {
    let versions = this.store.secrets.get(path);
    if (!versions) {
      versions = new Map();
      this.store.secrets.set(path, versions);
    }
    const version = nextVersion(states(versions));
    versions.set(version, value);
    return version;
  }

  async read(path: string, version: number | undefined): Promise<StoredSecret | null> {
    const versions = this.store.secrets.get(path);
    if (!versions) return null;
    const wanted = version ?? latestLiveVersion(states(versions));
    if (wanted === undefined) return null;
    const value = versions.get(wanted);
    return value === undefined ? null : { value, version: wanted };
  }

  async deleteSecret(path: string): Promise<boolean> {
    // A path exists while it has any version record, even if every version was deleted one by one.
    return this.store.secrets.delete(path);
  }

  async deleteVersion(path: string, version: number): Promise<boolean> {
    const versions = this.store.secrets.get(path);
    if (versions?.get(version) === undefined) return false;
    versions.set(version, undefined);
    return true;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.store.secrets]
      .filter(
        ([path, versions]) => path.startsWith(prefix) && latestLiveVersion(states(versions)) !== undefined,
      )
      .map(([path]) => path)
      .sort();
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
