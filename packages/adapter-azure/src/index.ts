import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecretClient } from '@azure/keyvault-secrets';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  type CallOptions,
  DEFAULT_BACKEND_TIMEOUT_MS,
  type GatewaySettings,
  KeyedMutex,
  operationBudget,
  type StoredSecret,
  sleep,
  VersionConflictError,
} from '@secret-gateway/core';
import { createSecretClient, credentialOf, operationBudgets } from './client.ts';
import { type AzureAdapterOptions, settingsFromEnv } from './config.ts';
import { isConflict, isDisabled, isForbidden, isNotFound, mapAzureError } from './errors.ts';
import { isHashedName, secretName } from './names.ts';
import {
  CLAIM_TAG,
  claimable,
  current,
  DELETED_TAG,
  entryOf,
  type History,
  historyOf,
  type Latest,
  latestLive,
  liveCopies,
  markerTags,
  nextNumber,
  sameIds,
  serves,
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

/** How many names' latest versions an adapter remembers as claim hints. */
const MAX_HINTS = 10_000;

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

  /** Latest versions seen per name: where the next write's claim goes (always checked first). */
  readonly #hints = new Map<string, Latest>();
  readonly #timeoutMs: number;

  constructor(options: AzureAdapterOptions, client?: SecretClient) {
    this.#client = client ?? createSecretClient(options);
    this.#purge = options.purge ?? true;
    this.#pollIntervalMs = options.pollIntervalMs ?? 250;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS;
  }

  /** Runs one operation inside its budget, which the throttling policy reads (client.ts). */
  #run<T>(options: CallOptions | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const budget = operationBudget(this.#timeoutMs, options?.signal);
    return operationBudgets.run(budget, () => fn(budget.signal));
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

  /**
   * The newest version Key Vault holds, in one call: `absent` (404: no such name, or soft-deleted),
   * `hidden` (403: it is disabled, i.e. deleted, withdrawn or a marker), or the version.
   */
  async #latest(name: string, signal?: AbortSignal, id?: string): Promise<Latest | 'absent' | 'hidden'> {
    try {
      const secret = await this.#client.getSecret(name, {
        abortSignal: signal,
        ...(id ? { version: id } : {}),
      });
      const props = secret.properties;
      return {
        id: props.version ?? '',
        value: secret.value,
        tags: props.tags ?? {},
        entry: entryOf(props),
      };
    } catch (error) {
      if (isNotFound(error)) return 'absent';
      if (isDisabled(error)) return 'hidden';
      throw Object.assign(mapAzureError(error, 'get'), { azureError: error });
    }
  }

  #remember(name: string, latest: Latest): void {
    this.#hints.delete(name);
    this.#hints.set(name, latest);
    // Oldest first in insertion order; a hint only saves one call, so forgetting is cheap.
    if (this.#hints.size > MAX_HINTS) this.#hints.delete(this.#hints.keys().next().value as string);
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    // Writers in one process queue up; writers in other replicas are caught after the fact below.
    return this.#run(options, (signal) => this.#writes.run(path, () => this.#write(path, value, signal)));
  }

  /**
   * Key Vault has no compare-and-set, so writers elect one another through a claim tag on the
   * version they build on (the base): claim it, check it is still the newest version, write the
   * next number, then read the base back. Of two writers of one number, the later claimer sees the
   * other's version when it checks (if that was written first), or the other reads back a claim
   * that is not its own (if its check came first): one of them always withdraws. A base must be
   * the newest version; when that is disabled or missing, the base comes from a full listing.
   */
  async #write(path: string, value: string, signal: AbortSignal): Promise<number> {
    const name = secretName(path);
    const taggedPath = isHashedName(name) ? path : undefined;
    let recovered = false;
    let base: Latest | 'absent' | 'hidden' | undefined = this.#hints.get(name);
    for (let attempt = 0; attempt < 100; attempt++) {
      signal.throwIfAborted();
      base ??= await this.#latest(name, signal);
      const fast: boolean = typeof base === 'object' && serves(base);
      const history = fast ? undefined : await this.#history(name, signal);
      const claimed = fast ? (base as Latest) : history && claimable(history);
      const claim = randomUUID();
      if (claimed) {
        try {
          await this.#client.updateSecretProperties(name, claimed.id, {
            tags: { ...claimed.tags, [CLAIM_TAG]: claim },
            abortSignal: signal,
          });
        } catch (error) {
          // A hint for a secret deleted since (404), or one being recovered or purged (409).
          if (!(isNotFound(error) || isConflict(error)))
            throw Object.assign(mapAzureError(error, 'claim'), { azureError: error });
          this.#hints.delete(name);
          base = undefined;
          if (isConflict(error)) await sleep(Math.min(500, 25 * 2 ** Math.min(attempt, 5)), signal);
          continue;
        }
        // Anything written since the base was read makes it stale: start again from the newest.
        const now = await this.#latest(name, signal);
        const stale = fast
          ? typeof now !== 'object' || now.id !== claimed.id
          : !sameIds(history as History, await this.#history(name, signal));
        if (stale) {
          this.#hints.delete(name);
          base = fast ? now : undefined;
          continue;
        }
      }
      const generation = fast
        ? ((claimed as Latest).entry?.generation ?? 1)
        : Math.max(1, history?.generation ?? 1);
      const next = fast ? ((claimed as Latest).entry?.version ?? 0) + 1 : history ? nextNumber(history) : 1;
      const tags = versionTags(generation, next, taggedPath);
      let id: string;
      try {
        const written = await this.#client.setSecret(name, value, { tags, abortSignal: signal });
        id = written.properties.version ?? '';
      } catch (error) {
        if (!isConflict(error)) throw Object.assign(mapAzureError(error, 'set'), { azureError: error });
        // 409: soft-deleted (recover it, once), or still being purged/recovered (wait).
        if (!recovered && (await this.#recoverIfDeleted(name, signal))) recovered = true;
        else await sleep(Math.min(500, 25 * 2 ** Math.min(attempt, 5)), signal);
        base = undefined;
        continue;
      }
      if (await this.#kept(name, claimed, claim, generation, next, id, signal)) {
        this.#remember(name, { id, value, tags, entry: entryOf({ version: id, enabled: true, tags }) });
        return next;
      }
      this.#hints.delete(name);
      // Another writer claimed this number (or a delete-all started a new generation): withdraw.
      await this.#withdraw(name, id, tags, signal);
      // Writers that saw each other both withdraw; a random pause breaks the lockstep before a retry.
      await sleep(Math.random() * 60, signal);
      throw new VersionConflictError(`Azure Key Vault: another writer took version ${next} of ${path}`);
    }
    throw new VersionConflictError(`Azure Key Vault: ${path} stayed busy`);
  }

  /**
   * After writing `next` as `id`: whether it stands. With a claimed base, the claim must still be
   * ours (read back in one call while the base is enabled); without one (the first version of a
   * name or generation), a listing must show no other live copy of the number and no newer
   * generation, as before claims existed.
   */
  async #kept(
    name: string,
    claimed: { id: string } | undefined,
    claim: string,
    generation: number,
    next: number,
    id: string,
    signal: AbortSignal,
  ): Promise<boolean> {
    if (claimed) {
      const back = await this.#latest(name, signal, claimed.id);
      if (typeof back === 'object') return back.tags[CLAIM_TAG] === claim;
      if (back === 'absent') return false;
    }
    const after = await this.#history(name, signal);
    if (after === undefined || after.generation > generation) return false;
    if (liveCopies(after, next).some((e) => e.id !== id)) return false;
    if (!claimed) return true;
    const base = after.entries.find((e) => e.id === claimed.id);
    // A claim that raced a withdraw can rewrite the base's tags from before it: tag it deleted again.
    if (base?.deleted && base.version !== undefined && base.tags[DELETED_TAG] === undefined)
      await this.#withdraw(name, base.id, base.tags, signal);
    return base?.tags[CLAIM_TAG] === claim;
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
    return this.#run(options, (signal) => this.#read(path, version, signal));
  }

  /**
   * The newest version first (one call): when it is live and ours it is the latest, or the version
   * asked for. Otherwise (the newest was deleted, withdrawn or is a marker; an older version is
   * asked for) the versions are listed.
   */
  async #read(path: string, version: number | undefined, signal: AbortSignal): Promise<StoredSecret | null> {
    const name = secretName(path);
    const newest = await this.#latest(name, signal);
    if (newest === 'absent') return null;
    if (typeof newest === 'object' && serves(newest)) {
      this.#remember(name, newest);
      const number = newest.entry?.version as number;
      if ((version === undefined || version === number) && typeof newest.value === 'string')
        return { value: newest.value, version: number };
    }
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
    return this.#run(options, (signal) => this.#deleteVersion(path, version, signal));
  }

  async #deleteVersion(path: string, version: number, signal: AbortSignal): Promise<boolean> {
    const name = secretName(path);
    this.#hints.delete(name);
    const history = await this.#history(name, signal);
    const copies = history ? liveCopies(history, version) : [];
    for (const entry of copies) await this.#withdraw(name, entry.id, entry.tags, signal);
    return copies.length > 0;
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    return this.#run(options, (signal) => this.#deleteSecret(path, signal));
  }

  async #deleteSecret(path: string, signal: AbortSignal): Promise<boolean> {
    const name = secretName(path);
    this.#hints.delete(name);
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
    return this.#run(options, (signal) => this.#check(signal));
  }

  async #check(abortSignal: AbortSignal): Promise<void> {
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
  if (identity.kind === 'token') {
    settings?.warn?.('SGW_AZURE_ACCESS_TOKEN is a fixed token for development only: it is never refreshed');
  }
  const caPem = caFile ? readFileSync(caFile, 'utf8') : undefined;
  return new AzureAdapter({ ...options, credential: credentialOf(identity, caPem), caPem });
}
