import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  BackendError,
  BackendUnavailableError,
  type CallOptions,
  latestLiveVersion,
  type StoredSecret,
} from '@secret-gateway/core';
import { authenticate, createVaultClient, type VaultClient } from './client.ts';
import { KEEP_ALL_VERSIONS, type VaultAdapterOptions } from './config.ts';
import { mapVaultError, vaultStatus } from './errors.ts';
import { dataPath, kvPath, metadataPath } from './names.ts';
import { type VaultVersions, versionStates } from './versions.ts';

export { VAULT_ENV, type VaultAdapterOptions } from './config.ts';
export { kvPath } from './names.ts';

interface Metadata {
  current_version: number;
  max_versions: number;
  versions: VaultVersions;
}

/** The field a secret's value lives in inside Vault's `data` map. */
const FIELD = 'value';

/**
 * HashiCorp Vault, KV version 2. Versions are Vault's own; writes use check-and-set, so several
 * gateway replicas never overwrite each other; deleting a version destroys it; deleting a secret
 * deletes its metadata, so numbering restarts at 1.
 */
export class VaultAdapter implements BackendAdapter {
  readonly contractVersion = ADAPTER_CONTRACT_VERSION;
  readonly name = 'vault';
  readonly capabilities: AdapterCapabilities = {
    // Vault's default request size limit is 32 MiB and raft entries 1 MiB; the gateway's 64 KiB applies first.
    maxValueBytes: 512 * 1024,
    maxPathBytes: 1024,
    atomicVersionsAcrossReplicas: true,
    list: false,
  };
  readonly mount: string;
  readonly #client: VaultClient;
  readonly #options: VaultAdapterOptions;
  readonly #maxVersions: number;
  #login: Promise<void> | undefined;

  constructor(options: VaultAdapterOptions) {
    this.#options = options;
    this.mount = options.mount ?? 'secret';
    this.#maxVersions =
      options.maxVersions && options.maxVersions > 0 ? options.maxVersions : KEEP_ALL_VERSIONS;
    this.#client = createVaultClient(options);
  }

  /** Runs one Vault call: logged in, abandoned when the deadline's signal fires, errors mapped. */
  async #call<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (client: VaultClient) => Promise<T>,
  ): Promise<T> {
    try {
      this.#login ??= authenticate(this.#client, this.#options).catch((error) => {
        this.#login = undefined;
        throw error;
      });
      await this.#login;
      if (!signal) return await fn(this.#client);
      signal.throwIfAborted();
      return await new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        fn(this.#client)
          .then(resolve, reject)
          .finally(() => signal.removeEventListener('abort', onAbort));
      });
    } catch (error) {
      throw mapVaultError(error, what);
    }
  }

  /** Metadata of a path, or undefined when Vault has none (404). */
  async #metadata(path: string, signal?: AbortSignal): Promise<Metadata | undefined> {
    try {
      const answer = await this.#call('read metadata', signal, (c) => c.read(metadataPath(this.mount, path)));
      return answer.data as Metadata;
    } catch (error) {
      if (vaultStatus((error as { cause?: unknown }).cause) === 404) return undefined;
      throw error;
    }
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    const signal = options?.signal;
    const metadata = await this.#metadata(path, signal);
    if (!metadata || metadata.max_versions !== this.#maxVersions) {
      // Vault would otherwise keep only its default 10 versions and silently destroy older ones.
      await this.#call('write metadata', signal, (c) =>
        c.write(metadataPath(this.mount, path), { max_versions: this.#maxVersions }),
      );
    }
    const answer = await this.#call('write', signal, (c) =>
      c.write(dataPath(this.mount, path), {
        data: { [FIELD]: value },
        options: { cas: metadata?.current_version ?? 0 },
      }),
    );
    return (answer.data as { version: number }).version;
  }

  async read(path: string, version: number | undefined, options?: CallOptions): Promise<StoredSecret | null> {
    const signal = options?.signal;
    const found = await this.#readData(path, version, signal);
    if (found !== undefined || version !== undefined) return found ?? null;
    // The newest version is deleted or destroyed: latest is the newest live one below it.
    const metadata = await this.#metadata(path, signal);
    const live = metadata ? latestLiveVersion(versionStates(metadata.versions)) : undefined;
    return live === undefined ? null : ((await this.#readData(path, live, signal)) ?? null);
  }

  /** A version's value; undefined when absent, deleted or destroyed (Vault answers 404 for all three). */
  async #readData(
    path: string,
    version: number | undefined,
    signal?: AbortSignal,
  ): Promise<StoredSecret | undefined> {
    try {
      const answer = await this.#call('read', signal, (c) => c.read(dataPath(this.mount, path, version)));
      const { data, metadata } = answer.data as {
        data: Record<string, unknown> | null;
        metadata: { version: number };
      };
      const value = data?.[FIELD];
      if (typeof value !== 'string') {
        throw new BackendError(
          'unexpected',
          `Vault secret ${path} has no string "${FIELD}" field: it was not written by the gateway`,
        );
      }
      return { value, version: metadata.version };
    } catch (error) {
      if (vaultStatus((error as { cause?: unknown }).cause) === 404) return undefined;
      throw error;
    }
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    if (!(await this.#metadata(path, options?.signal))) return false;
    await this.#call('delete metadata', options?.signal, (c) => c.delete(metadataPath(this.mount, path)));
    return true;
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    const metadata = await this.#metadata(path, options?.signal);
    const state = metadata?.versions[String(version)];
    if (!state || state.destroyed || state.deletion_time !== '') return false;
    // Destroy, not soft-delete: nobody can undelete it behind the gateway's back.
    await this.#call('destroy', options?.signal, (c) =>
      c.write(`${this.mount}/destroy/${kvPath(path)}`, { versions: [version] }),
    );
    return true;
  }

  async check(options?: CallOptions): Promise<void> {
    // node-vault resolves sys/health whatever its status, so judge by the body: a standby node
    // (429) is fine, a sealed or uninitialised one (or an error body) is not.
    const health = (await this.#call('health check', options?.signal, (c) => c.health())) as {
      initialized?: boolean;
      sealed?: boolean;
    };
    if (health?.initialized !== true || health.sealed !== false) {
      throw new BackendUnavailableError(
        'server_error',
        'Vault is sealed, not initialised, or not answering its health check',
      );
    }
  }

  async close(): Promise<void> {}
}

/**
 * `SGW_BACKEND=vault`: VAULT_ADDR with VAULT_TOKEN, or VAULT_ROLE_ID + VAULT_SECRET_ID (AppRole);
 * VAULT_NAMESPACE, VAULT_CACERT, SGW_VAULT_MOUNT, SGW_VAULT_MAX_VERSIONS, SGW_BACKEND_TIMEOUT_MS.
 */
export function fromEnv(env: Record<string, string | undefined>): VaultAdapter {
  const endpoint = env.VAULT_ADDR;
  if (!endpoint) throw new Error('SGW_BACKEND=vault needs VAULT_ADDR (e.g. https://vault.internal:8200)');
  let auth: VaultAdapterOptions['auth'];
  if (env.VAULT_TOKEN) auth = { token: env.VAULT_TOKEN };
  else if (env.VAULT_ROLE_ID && env.VAULT_SECRET_ID) {
    auth = { roleId: env.VAULT_ROLE_ID, secretId: env.VAULT_SECRET_ID, mount: env.VAULT_APPROLE_MOUNT };
  } else {
    throw new Error('SGW_BACKEND=vault needs VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole');
  }
  const maxVersions = env.SGW_VAULT_MAX_VERSIONS ? Number(env.SGW_VAULT_MAX_VERSIONS) : 0;
  if (!Number.isInteger(maxVersions) || maxVersions < 0)
    throw new Error('SGW_VAULT_MAX_VERSIONS must be a whole number (0 = keep all)');
  return new VaultAdapter({
    endpoint,
    auth,
    namespace: env.VAULT_NAMESPACE || undefined,
    mount: env.SGW_VAULT_MOUNT || undefined,
    maxVersions,
    ca: env.VAULT_CACERT || undefined,
    requestTimeoutMs: env.SGW_BACKEND_TIMEOUT_MS ? Number(env.SGW_BACKEND_TIMEOUT_MS) : undefined,
  });
}
