import { setTimeout as sleep } from 'node:timers/promises';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  BackendError,
  BackendUnavailableError,
  type CallOptions,
  type GatewaySettings,
  latestLiveVersion,
  type StoredSecret,
  VersionConflictError,
} from '@secret-gateway/core';
import { VaultLogin } from './auth.ts';
import { createVaultClient, type VaultClient, type VaultRequestOptions } from './client.ts';
import { KEEP_ALL_VERSIONS, optionsFromEnv, type VaultAdapterOptions } from './config.ts';
import { FROM_ACTIVE_NODE, standbyBackoffMs } from './consistency.ts';
import { isNotFound, mapVaultError, vaultStatus } from './errors.ts';
import { healthName, missingCapabilities, requiredCapabilities } from './health.ts';
import { dataPath, destroyPath, metadataPath } from './names.ts';
import { isVersionDeleted, type VaultVersions, versionStates } from './versions.ts';

export {
  describeOptions,
  optionsFromEnv,
  VAULT_ENV,
  type VaultAdapterOptions,
  type VaultAuth,
} from './config.ts';
export { kvPath } from './names.ts';

interface Metadata {
  current_version: number;
  max_versions: number;
  versions: VaultVersions;
}

/** The field a secret's value lives in inside Vault's `data` map. */
const FIELD = 'value';
const MISSING = Symbol('missing');
/** Retries of a read that a standby refused as behind (412) before giving up. */
const STANDBY_RETRIES = 4;
/**
 * Check-and-set attempts of one write. A refusal can come from a standby's stale metadata rather
 * than another writer; core's own retry waits only a few ms, far less than a standby's lag.
 */
const WRITE_ATTEMPTS = 3;

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
  readonly #closeClient: () => void;
  readonly #login: VaultLogin;
  readonly #timeoutMs: number;
  readonly #maxVersions: number;
  readonly #root: string;

  constructor(options: VaultAdapterOptions) {
    this.mount = (options.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
    this.#maxVersions =
      options.maxVersions && options.maxVersions > 0 ? options.maxVersions : KEEP_ALL_VERSIONS;
    this.#timeoutMs = options.requestTimeoutMs ?? 5000;
    this.#root = (options.root ?? 'tfy-secret').replace(/^\/+|\/+$/g, '');
    const { client, close } = createVaultClient(options);
    this.#client = client;
    this.#closeClient = close;
    this.#login = new VaultLogin(client, options.auth, {
      timeoutMs: this.#timeoutMs,
      minReloginIntervalMs: options.minReloginIntervalMs ?? 10_000,
      onWarning: options.onWarning,
    });
  }

  /**
   * Runs one Vault call: logged in, aborted when the deadline's signal fires, bounded by a hard
   * timeout, errors mapped. With `allowMissing`, a definite not-found resolves to MISSING.
   */
  async #call<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (client: VaultClient, options: VaultRequestOptions) => Promise<T>,
    allowMissing = false,
  ): Promise<T | typeof MISSING> {
    const options: VaultRequestOptions = { timeout: this.#timeoutMs, ...(signal ? { signal } : {}) };
    try {
      signal?.throwIfAborted();
      await this.#login.ensure();
      const token = this.#client.token;
      try {
        return await this.#behindRetried(fn, options);
      } catch (error) {
        if (vaultStatus(error) !== 403) throw error;
        // A login token may have expired or been revoked: retry once with a fresh one (another
        // call may have logged in meanwhile).
        if (this.#client.token === token && !(await this.#login.refresh())) throw error;
        return await this.#behindRetried(fn, options);
      }
    } catch (error) {
      if (allowMissing && isNotFound(error)) return MISSING;
      // Our own deadline fired: report it as core made it (a timeout), not as a dropped connection.
      if (signal?.aborted) throw mapVaultError(signal.reason, what);
      throw mapVaultError(error, what);
    }
  }

  /**
   * Runs `fn` again, after a short backoff, while a standby answers 412: it has not applied the
   * index we sent yet and may not forward (Vault Enterprise without allow_forwarding_via_header).
   */
  async #behindRetried<T>(
    fn: (client: VaultClient, options: VaultRequestOptions) => Promise<T>,
    options: VaultRequestOptions,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(this.#client, options);
      } catch (error) {
        if (vaultStatus(error) !== 412 || attempt >= STANDBY_RETRIES) throw error;
        await sleep(standbyBackoffMs(attempt), undefined, options.signal ? { signal: options.signal } : {});
      }
    }
  }

  /**
   * Metadata of a path, or undefined when Vault has none. `fromActive`: the metadata decides a
   * write, so ask the active node rather than a standby that may be behind.
   */
  async #metadata(path: string, signal?: AbortSignal, fromActive = false): Promise<Metadata | undefined> {
    const answer = await this.#call(
      'read metadata',
      signal,
      (c, o) =>
        c.read(metadataPath(this.mount, path), fromActive ? { ...o, headers: { ...FROM_ACTIVE_NODE } } : o),
      true,
    );
    if (answer === MISSING) return undefined;
    const metadata = (answer as { data?: Metadata }).data;
    if (typeof metadata?.current_version !== 'number' || typeof metadata.versions !== 'object') {
      throw new BackendError('unexpected', `Vault metadata of ${path} has an unexpected shape`);
    }
    return metadata;
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#writeOnce(path, value, options?.signal);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= WRITE_ATTEMPTS) throw error;
        const signal = options?.signal;
        // Our own deadline firing while we wait is a timeout, as everywhere else.
        await sleep(standbyBackoffMs(attempt), undefined, signal ? { signal } : {}).catch(() => {
          throw mapVaultError(signal?.reason ?? error, 'write');
        });
      }
    }
  }

  async #writeOnce(path: string, value: string, signal: AbortSignal | undefined): Promise<number> {
    const metadata = await this.#metadata(path, signal, true);
    if (!metadata || metadata.max_versions !== this.#maxVersions) {
      // Vault would otherwise keep only its default 10 versions and silently destroy older ones.
      await this.#call('write metadata', signal, (c, o) =>
        c.write(metadataPath(this.mount, path), { max_versions: this.#maxVersions }, o),
      );
    }
    // Check-and-set on the version we saw: a concurrent writer makes this fail (VersionConflictError)
    // and SecretService retries, instead of two writers both believing they made the same version.
    const answer = await this.#call('write', signal, (c, o) =>
      c.write(
        dataPath(this.mount, path),
        { data: { [FIELD]: value }, options: { cas: metadata?.current_version ?? 0 } },
        o,
      ),
    );
    const version = (answer as { data?: { version?: unknown } }).data?.version;
    if (typeof version !== 'number') {
      throw new BackendError('unexpected', `Vault accepted a write to ${path} without a version number`);
    }
    return version;
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
    const answer = await this.#call(
      'read',
      signal,
      (c, o) => c.read(dataPath(this.mount, path, version), o),
      true,
    );
    if (answer === MISSING) return undefined;
    const { data, metadata } = ((answer as { data?: unknown }).data ?? {}) as {
      data?: Record<string, unknown> | null;
      metadata?: { version?: unknown };
    };
    const value = data?.[FIELD];
    if (typeof metadata?.version !== 'number') {
      throw new BackendError('unexpected', `Vault answered a read of ${path} without a version number`);
    }
    if (typeof value !== 'string') {
      throw new BackendError(
        'unexpected',
        `Vault secret ${path} has no string "${FIELD}" field: it was not written by the gateway`,
      );
    }
    return { value, version: metadata.version };
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    const metadata = await this.#metadata(path, options?.signal, true);
    if (!metadata) return false;
    await this.#call('delete metadata', options?.signal, (c, o) =>
      c.delete(metadataPath(this.mount, path), o),
    );
    // Metadata without any version (a first write that failed after setting max_versions) is
    // cleaned up, but there was no secret to delete.
    return Object.keys(metadata.versions ?? {}).length > 0;
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    const metadata = await this.#metadata(path, options?.signal, true);
    const state = metadata?.versions[String(version)];
    if (!state || isVersionDeleted(state)) return false;
    // Destroy, not soft-delete: nobody can undelete it behind the gateway's back.
    await this.#call('destroy', options?.signal, (c, o) =>
      c.write(destroyPath(this.mount, path), { versions: [version] }, o),
    );
    return true;
  }

  /**
   * Proves what the gateway needs, in order: Vault answers and is unsealed; the token is accepted and
   * its policy grants every capability the adapter uses under the root (sys/capabilities-self, which
   * Vault's default policy allows); and a KV v2 engine is mounted where configured (a metadata read
   * of a name no gateway path maps to answers "not found", not "no handler for route").
   */
  async check(options?: CallOptions): Promise<void> {
    const signal = options?.signal;
    // node-vault resolves sys/health whatever its status, so judge by the body: a standby node
    // (429) is fine, a sealed or uninitialised one (or an error body) is not.
    const health = (await this.#call('health check', signal, (c, o) => c.health({ requestOptions: o }))) as {
      initialized?: boolean;
      sealed?: boolean;
    };
    if (health?.initialized !== true || health.sealed !== false) {
      throw new BackendUnavailableError(
        'server_error',
        'Vault is sealed, not initialised, or not answering its health check',
        { detail: { backend: 'vault', operation: 'health check' } },
      );
    }
    const wanted = requiredCapabilities(this.mount, this.#root);
    const answer = (await this.#call('check capabilities', signal, (c, o) =>
      c.write('sys/capabilities-self', { paths: wanted.map((w) => w.probe) }, o),
    )) as { data?: Record<string, unknown> } & Record<string, unknown>;
    const missing = missingCapabilities(wanted, answer?.data ?? answer ?? {});
    if (missing.length > 0) {
      throw new BackendError('denied', `Vault denies ${missing.join('; ')}: check the token's policy`, {
        detail: { backend: 'vault', operation: 'check capabilities' },
      });
    }
    try {
      await this.#call(
        'check mount',
        signal,
        (c, o) => c.read(metadataPath(this.mount, healthName(this.#root)), o),
        true,
      );
    } catch (error) {
      if ((error as { reason?: unknown }).reason !== 'invalid') throw error;
      throw new BackendError(
        'invalid',
        `Vault has no KV v2 engine mounted at ${this.mount}/: check SGW_VAULT_MOUNT`,
        { cause: error, detail: (error as BackendError).detail },
      );
    }
  }

  async close(): Promise<void> {
    this.#closeClient();
  }
}

/**
 * `SGW_BACKEND=vault`: VAULT_ADDR with VAULT_TOKEN, AppRole (VAULT_ROLE_ID + VAULT_SECRET_ID) or
 * Kubernetes auth (VAULT_K8S_ROLE); the full list is VAULT_ENV in config.ts.
 */
export function fromEnv(
  env: Record<string, string | undefined>,
  settings?: Partial<GatewaySettings>,
): VaultAdapter {
  return new VaultAdapter({ ...optionsFromEnv(env, settings), onWarning: settings?.warn });
}
