import { readFileSync } from 'node:fs';
import type { SecretClient } from '@azure/keyvault-secrets';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  type CallOptions,
  type GatewaySettings,
  KeyedMutex,
  type StoredSecret,
  sleep,
  VersionConflictError,
} from '@secret-gateway/core';
import { createSecretClient, credentialOf } from './client.ts';
import { type AzureAdapterOptions, settingsFromEnv } from './config.ts';
import { isConflict, isDisabled, isForbidden, isNotFound, mapAzureError } from './errors.ts';
import { isHashedName, secretName } from './names.ts';
import {
  current,
  DELETED_TAG,
  entryOf,
  type History,
  historyOf,
  latestLive,
  liveCopies,
  markerTags,
  nextNumber,
  type VersionEntry,
  versionTags,
} from './versions.ts';

export { createSecretClient, credentialFromEnv, credentialOf, staticTokenCredential } from './client.ts';
export {
  AZURE_ENV,
  type AzureAdapterOptions,
  type AzureIdentity,
  type AzureSettings,
  describeSettings,
  settingsFromEnv,
} from './config.ts';
export { decodeName, encodePath, HASHED_PREFIX, pathOf, secretName } from './names.ts';
export * from './versions.ts';

/** The name check() probes: `-9` never comes out of the path encoder (names.ts). */
const HEALTH_NAME = 'sgwc-9-health';

/** Key Vault's value limit is "25 KB"; the lower reading (25,000 bytes) is safe under either. */
export const AZURE_MAX_VALUE_BYTES = 25_000;

/**
 * Azure Key Vault. Integer versions and generations live in per-version tags (versions.ts); a
 * deleted version is disabled and tagged; delete-all opens a new generation with a marker version,
 * soft-deletes, and purges when the vault allows it.
 */
export class AzureAdapter implements BackendAdapter {
  readonly contractVersion = ADAPTER_CONTRACT_VERSION;
  readonly name = 'azure';
  readonly capabilities: AdapterCapabilities = {
    maxValueBytes: AZURE_MAX_VALUE_BYTES,
    maxPathBytes: 1024,
    // No compare-and-set in Key Vault: two replicas can briefly hold the same number until the
    // loser sees the duplicate after its write and withdraws its version (see docs/backends/azure.md).
    atomicVersionsAcrossReplicas: false,
    list: false,
  };
  readonly #client: SecretClient;
  readonly #purge: boolean;
  readonly #pollIntervalMs: number;
  readonly #writes = new KeyedMutex();

  constructor(options: AzureAdapterOptions, client?: SecretClient) {
    this.#client = client ?? createSecretClient(options);
    this.#purge = options.purge ?? true;
    this.#pollIntervalMs = options.pollIntervalMs ?? 250;
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw Object.assign(mapAzureError(error, what), { azureError: error });
    }
  }

  /** Every version we wrote, or undefined when the name is absent (or soft-deleted, or recovering). */
  async #history(name: string, signal?: AbortSignal): Promise<History | undefined> {
    const entries: VersionEntry[] = [];
    try {
      for await (const props of this.#client.listPropertiesOfSecretVersions(name, { abortSignal: signal })) {
        const entry = entryOf(props);
        if (entry) entries.push(entry);
      }
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw Object.assign(mapAzureError(error, 'list versions'), { azureError: error });
    }
    return historyOf(entries);
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    // Writers in one process queue up; writers in other replicas are caught after the fact below.
    return this.#writes.run(path, () => this.#write(path, value, options?.signal));
  }

  async #write(path: string, value: string, signal?: AbortSignal): Promise<number> {
    const name = secretName(path);
    const taggedPath = isHashedName(name) ? path : undefined;
    let recovered = false;
    for (let attempt = 0; attempt < 100; attempt++) {
      signal?.throwIfAborted();
      const history = await this.#history(name, signal);
      const generation = Math.max(1, history?.generation ?? 1);
      const next = history ? nextNumber(history) : 1;
      let id: string;
      try {
        const written = await this.#client.setSecret(name, value, {
          tags: versionTags(generation, next, taggedPath),
          abortSignal: signal,
        });
        id = written.properties.version ?? '';
      } catch (error) {
        if (!isConflict(error)) throw Object.assign(mapAzureError(error, 'set'), { azureError: error });
        // 409: soft-deleted (recover it, once), or still being purged/recovered (wait).
        if (!recovered && (await this.#recoverIfDeleted(name, signal))) recovered = true;
        else await sleep(Math.min(500, 25 * 2 ** Math.min(attempt, 5)), signal);
        continue;
      }
      const after = await this.#history(name, signal);
      const lost =
        after === undefined ||
        after.generation > generation ||
        liveCopies(after, next).some((e) => e.id !== id);
      if (!lost) return next;
      // Another writer claimed this number (or a delete-all started a new generation): withdraw.
      await this.#withdraw(name, id, versionTags(generation, next, taggedPath), signal);
      // Writers that saw each other both withdraw; a random pause breaks the lockstep before a retry.
      await sleep(Math.random() * 60, signal);
      throw new VersionConflictError(`Azure Key Vault: another writer took version ${next} of ${path}`);
    }
    throw new VersionConflictError(`Azure Key Vault: ${path} stayed busy`);
  }

  /** Recovers a soft-deleted secret; false when it is not (or no longer) in the deleted list. */
  async #recoverIfDeleted(name: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#client.getDeletedSecret(name, { abortSignal: signal });
    } catch (error) {
      if (isNotFound(error)) return false;
      throw Object.assign(mapAzureError(error, 'get deleted'), { azureError: error });
    }
    try {
      // Only the first poll runs here; the write loop waits out 409 ObjectIsBeingRecovered itself.
      await this.#client.beginRecoverDeletedSecret(name, {
        abortSignal: signal,
        intervalInMs: this.#pollIntervalMs,
      });
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return true;
      throw Object.assign(mapAzureError(error, 'recover'), { azureError: error });
    }
    return true;
  }

  /** Disables a version and tags it deleted: it is never served again and its number stays used. */
  async #withdraw(name: string, id: string, tags: Record<string, string>, signal?: AbortSignal) {
    await this.#call('update', () =>
      this.#client.updateSecretProperties(name, id, {
        enabled: false,
        tags: { ...tags, [DELETED_TAG]: '1' },
        abortSignal: signal,
      }),
    );
  }

  async read(path: string, version: number | undefined, options?: CallOptions): Promise<StoredSecret | null> {
    const signal = options?.signal;
    const name = secretName(path);
    const history = await this.#history(name, signal);
    if (!history) return null;
    const wanted = version ?? latestLive(history);
    if (wanted === undefined) return null;
    const entry = liveCopies(history, wanted)[0];
    if (!entry) return null;
    try {
      const secret = await this.#client.getSecret(name, { version: entry.id, abortSignal: signal });
      return typeof secret.value === 'string' ? { value: secret.value, version: wanted } : null;
    } catch (error) {
      // Deleted between the listing and the get: disabled (403 SecretDisabled) or gone (404).
      if (isNotFound(error) || isDisabled(error)) return null;
      throw Object.assign(mapAzureError(error, 'get'), { azureError: error });
    }
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    const signal = options?.signal;
    const name = secretName(path);
    const history = await this.#history(name, signal);
    const copies = history ? liveCopies(history, version) : [];
    for (const entry of copies) await this.#withdraw(name, entry.id, entry.tags, signal);
    return copies.length > 0;
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    const signal = options?.signal;
    const name = secretName(path);
    const history = await this.#history(name, signal);
    if (!history || current(history).length === 0) return false;
    // The marker opens the next generation first: if anything below fails, or an operator recovers
    // the secret later, none of the old versions is served again.
    await this.#call('set marker', () =>
      this.#client.setSecret(name, '', {
        enabled: false,
        tags: markerTags(history.generation + 1, isHashedName(name) ? path : undefined),
        abortSignal: signal,
      }),
    );
    const poller = await this.#call('delete', () =>
      this.#client.beginDeleteSecret(name, { abortSignal: signal, intervalInMs: this.#pollIntervalMs }),
    );
    if (!this.#purge) return true;
    await this.#call('wait for delete', () => poller.pollUntilDone({ abortSignal: signal }));
    try {
      await this.#client.purgeDeletedSecret(name, { abortSignal: signal });
    } catch (error) {
      // Purge protection (403), or Azure still finishing the delete (409/404): the secret stays
      // soft-deleted, and the next write recovers it into the new generation.
      if (!(isForbidden(error) || isConflict(error) || isNotFound(error)))
        throw Object.assign(mapAzureError(error, 'purge'), { azureError: error });
    }
    return true;
  }

  /**
   * Probes a name no gateway path maps to (the encoder never writes `-9`). Key Vault checks the
   * token and the identity's role before it looks the secret up, so 404 from a get and a delete
   * proves that the vault answers, the credential gets a token the vault accepts, and the identity
   * may read and delete secrets (Key Vault Secrets Officer; Secrets User may only read). The delete
   * probe runs only while the name does not exist, so it never deletes anything.
   */
  async check(options?: CallOptions): Promise<void> {
    const abortSignal = options?.signal;
    const probe = async (what: string, run: () => Promise<unknown>) => {
      try {
        await run();
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw Object.assign(mapAzureError(error, what), { azureError: error });
      }
    };
    const exists = await probe('check get', () => this.#client.getSecret(HEALTH_NAME, { abortSignal }));
    if (exists) return;
    await probe('check delete', () =>
      this.#client.beginDeleteSecret(HEALTH_NAME, { abortSignal, intervalInMs: this.#pollIntervalMs }),
    );
  }

  async close(): Promise<void> {
    // SecretClient holds no resources of its own beyond Node's shared agent.
  }
}

/**
 * `SGW_BACKEND=azure`: AZURE_KEYVAULT_URL, the usual AZURE_* identity variables and SGW_AZURE_* (see
 * AZURE_ENV), checked by settingsFromEnv; then the credential is built and the CA file read.
 */
export function fromEnv(
  env: Record<string, string | undefined>,
  settings?: Partial<GatewaySettings>,
): AzureAdapter {
  const { identity, caFile, ...options } = settingsFromEnv(env, settings);
  return new AzureAdapter({
    ...options,
    credential: credentialOf(identity),
    caPem: caFile ? readFileSync(caFile, 'utf8') : undefined,
  });
}
