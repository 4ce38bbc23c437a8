import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  BackendError,
  BackendUnavailableError,
  type Budget,
  type CallOptions,
  type GatewaySettings,
  operationBudget,
  raceAbort,
  type StoredSecret,
} from '@secret-gateway/core';
import { createGcpClient, type GcpClient, initializeClient } from './client.ts';
import { DEFAULT_TIMEOUT_MS, type GcpAdapterOptions, optionsFromEnv } from './config.ts';
import { Code, grpcCodeOf, locationRefused, mapGcpError } from './errors.ts';
import { LatestMemory } from './memory.ts';
import { secretId, secretMetadata, secretName } from './names.ts';
import { decodePayload, encodePayload } from './payload.ts';
import { replicationPolicy } from './replication.ts';
import { ENABLED_FILTER, LATEST_ALIAS, newestEnabled, versionName, versionNumber } from './versions.ts';

export { createGcpClient, type GcpClient } from './client.ts';
export { describeOptions, GCP_ENV, type GcpAdapterOptions, optionsFromEnv } from './config.ts';
export { mapGcpError, PER_MINUTE_RETRY_SECONDS } from './errors.ts';
export { LatestMemory } from './memory.ts';
export { decodePath, encodePath, pathOfSecret, secretId } from './names.ts';

// Writes and deletes are not retried by the SDK (a retried destroy would report "already destroyed").
const NO_RETRY = { retryCodes: [] as number[] };
/** Reads: the SDK retries UNAVAILABLE (not throttling: that answers 503 + Retry-After at once). */
const readRetry = (budgetMs: number) => ({
  retryCodes: [Code.UNAVAILABLE],
  backoffSettings: {
    initialRetryDelayMillis: 50,
    retryDelayMultiplier: 2,
    maxRetryDelayMillis: 1000,
    initialRpcTimeoutMillis: budgetMs,
    rpcTimeoutMultiplier: 1,
    maxRpcTimeoutMillis: budgetMs,
    totalTimeoutMillis: budgetMs,
  },
});

/**
 * GCP Secret Manager over gRPC. Versions are native (GCP numbers them from 1 and never reuses a
 * number); latest is the newest ENABLED version (see #latest); deleting a version destroys it;
 * deleting a secret deletes it, and the next write re-creates it at version 1.
 */
export class GcpAdapter implements BackendAdapter {
  readonly contractVersion = ADAPTER_CONTRACT_VERSION;
  readonly name = 'gcp';
  readonly capabilities: AdapterCapabilities = {
    maxValueBytes: 65_536,
    maxPathBytes: 1024,
    // Secret Manager assigns version numbers itself, atomically.
    atomicVersionsAcrossReplicas: true,
    list: false,
  };
  readonly #client: GcpClient;
  readonly #options: GcpAdapterOptions;
  readonly #timeoutMs: number;
  /** The client's credentials and stub, once found (see initializeClient). */
  #ready: Promise<void> | undefined;
  /** Newest enabled version per secret whose alias fails (see LatestMemory). */
  readonly #memory = new LatestMemory();
  /** The full readiness probe passed, and no check failed since (see check()). */
  #fullyChecked = false;

  constructor(options: GcpAdapterOptions, client?: GcpClient) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#client = client ?? createGcpClient(options);
  }

  /**
   * The operation ends a little before the gateway's own deadline, so the SDK's bounded retries have
   * stopped (and the adapter's more precise error is the one reported) by the time it fires.
   */
  #budget(options: CallOptions | undefined): Budget {
    return operationBudget(this.#timeoutMs, options?.signal, Math.min(50, this.#timeoutMs / 10));
  }

  /**
   * One RPC inside the operation's budget: the gRPC deadline is what is left of it (so the SDK's
   * 600 s retry of AccessSecretVersion can never outlive it), and the gateway's abort settles the
   * call at once. (The generated client methods do not expose gax's cancel(); the gRPC deadline
   * ends the RPC itself no later than the budget.)
   */
  async #call<T>(what: string, budget: Budget, fn: (o: object) => Promise<T>, retry = false): Promise<T> {
    const late = () =>
      new BackendUnavailableError('timeout', `GCP ${what}: the deadline passed before the call`);
    if (budget.signal.aborted || budget.remainingMs() <= 0) throw late();
    const cancelled = () => new BackendUnavailableError('timeout', `GCP ${what}: cancelled at the deadline`);
    // Credentials first (see #connect), inside the same budget as the RPC.
    const run = async () => {
      await this.#connect(what);
      const left = budget.remainingMs();
      if (left <= 0) throw late();
      return fn({ timeout: left, retry: retry ? readRetry(left) : NO_RETRY });
    };
    try {
      return await raceAbort(run(), budget.signal, cancelled);
    } catch (error) {
      throw mapGcpError(error, what);
    }
  }

  /** Shared by concurrent calls; forgotten on failure so that fixed credentials are picked up. */
  #connect(what: string): Promise<void> {
    this.#ready ??= initializeClient(this.#client, !this.#options.insecure, what).catch((error) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    const budget = this.#budget(options);
    const parent = secretName(this.#options.projectId, path);
    const add = async () => {
      const [version] = await this.#call('add version', budget, (o) =>
        this.#client.addSecretVersion({ parent, payload: encodePayload(value) }, o),
      );
      const n = versionNumber(version.name);
      if (!Number.isSafeInteger(n))
        throw new BackendError('unexpected', `GCP named a new version ${version.name}`);
      // The alias may not show it for a while; access by this number is strongly consistent.
      this.#memory.enabled(parent, n, true);
      return n;
    };
    try {
      return await add();
    } catch (error) {
      if (grpcCodeOf(error) !== Code.NOT_FOUND) throw error;
    }
    // First write (or first after delete-all): create the secret, then add version 1.
    try {
      await this.#call('create secret', budget, (o) =>
        this.#client.createSecret(
          {
            parent: `projects/${this.#options.projectId}`,
            secretId: secretId(path),
            secret: {
              replication: replicationPolicy(this.#options.replication),
              ...secretMetadata(path, this.#options.labels),
            },
          },
          o,
        ),
      );
    } catch (error) {
      // Another writer created it first: fine, add our version to it.
      if (grpcCodeOf(error) === Code.ALREADY_EXISTS) return add();
      // The only precondition of CreateSecret an operator meets: an organisation location policy
      // (constraints/gcp.resourceLocations) refusing the replication's locations.
      if (grpcCodeOf(error) === Code.FAILED_PRECONDITION) throw locationRefused(this.#options, error);
      throw error;
    }
    return add();
  }

  async read(path: string, version: number | undefined, options?: CallOptions): Promise<StoredSecret | null> {
    const budget = this.#budget(options);
    const secret = secretName(this.#options.projectId, path);
    if (version !== undefined) {
      // Destroyed or deleted by this process: a stale read may still serve it.
      if (this.#memory.hidden(secret, version)) return null;
      const found = await this.#access(versionName(secret, version), budget);
      return found === 'not_enabled' ? null : found;
    }
    return this.#latest(secret, budget);
  }

  /**
   * Newest ENABLED version. The `latest` alias means the newest version whatever its state, so it is
   * only trusted when it answers: then it *is* the newest enabled one, in one access call (90,000/min
   * quota). When the newest is destroyed or disabled the alias fails with FAILED_PRECONDITION and the
   * newest ENABLED version is found with ListSecretVersions (600/min quota, so not on every read). A
   * version destroyed between the listing and the access makes us list again.
   */
  async #latest(secret: string, budget: Budget): Promise<StoredSecret | null> {
    const fast = await this.#access(versionName(secret, LATEST_ALIAS), budget);
    // The alias is eventually consistent: it may still show a version this process destroyed (or
    // one of the secret it deleted), or not yet one it wrote.
    const alias =
      fast !== null && fast !== 'not_enabled' && !this.#memory.hidden(secret, fast.version)
        ? fast
        : undefined;
    for (const n of this.#memory.known(secret)) {
      if (alias && alias.version >= n) break;
      const found = await this.#access(versionName(secret, n), budget);
      if (found !== null && found !== 'not_enabled') return found;
      this.#memory.destroyed(secret, n, false); // destroyed or disabled elsewhere
    }
    if (alias) {
      this.#memory.enabled(secret, alias.version); // the newest known, if a later alias fails
      return alias;
    }
    if (fast === null) return null;
    for (let attempt = 0; attempt < 3; attempt++) {
      let listed: Array<{ name?: string | null; state?: unknown }>;
      try {
        [listed] = await this.#call(
          'list versions',
          budget,
          (o) => this.#client.listSecretVersions({ parent: secret, filter: ENABLED_FILTER }, o),
          true,
        );
      } catch (error) {
        if (grpcCodeOf(error) === Code.NOT_FOUND) return null; // deleted meanwhile
        throw error;
      }
      const newest = newestEnabled(
        (listed as Array<{ name?: string | null; state?: string | null }>).filter(
          (v) => !this.#memory.hidden(secret, versionNumber(v.name)),
        ),
      );
      if (newest === undefined) return null;
      const found = await this.#access(versionName(secret, newest), budget);
      if (found !== null && found !== 'not_enabled') this.#memory.enabled(secret, newest);
      if (found !== 'not_enabled') return found;
    }
    throw new BackendUnavailableError('busy', 'GCP versions kept changing while resolving the latest one');
  }

  /** A version's value; null when it or its secret does not exist; 'not_enabled' when destroyed or disabled. */
  async #access(name: string, budget: Budget): Promise<StoredSecret | null | 'not_enabled'> {
    try {
      const [answer] = await this.#call(
        'access',
        budget,
        (o) => this.#client.accessSecretVersion({ name }, o),
        true,
      );
      const value = decodePayload(answer.payload);
      if (value === null) throw new BackendError('unexpected', `GCP sent ${answer.name} with a wrong CRC32C`);
      return { value, version: versionNumber(answer.name) };
    } catch (error) {
      const code = grpcCodeOf(error);
      if (code === Code.NOT_FOUND) return null;
      // Destroyed or disabled: deleted as far as the gateway is concerned.
      if (code === Code.FAILED_PRECONDITION) return 'not_enabled';
      throw error;
    }
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    const secret = secretName(this.#options.projectId, path);
    const name = versionName(secret, version);
    try {
      await this.#call('destroy version', this.#budget(options), (o) =>
        this.#client.destroySecretVersion({ name }, o),
      );
      this.#memory.destroyed(secret, version);
      return true;
    } catch (error) {
      const code = grpcCodeOf(error);
      // Absent, or already destroyed.
      if (code === Code.NOT_FOUND) return false;
      if (code === Code.FAILED_PRECONDITION) {
        this.#memory.destroyed(secret, version);
        return false;
      }
      throw error;
    }
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    const secret = secretName(this.#options.projectId, path);
    try {
      await this.#call('delete secret', this.#budget(options), (o) =>
        this.#client.deleteSecret({ name: secret }, o),
      );
      // Re-created, the secret numbers from 1 again, and stale reads may serve the old versions.
      this.#memory.deletedAll(secret);
      return true;
    } catch (error) {
      if (grpcCodeOf(error) === Code.NOT_FOUND) {
        this.#memory.deletedAll(secret);
        return false;
      }
      throw error;
    }
  }

  /**
   * Probes a secret under the root that no gateway path maps to. GCP checks IAM before it looks the
   * secret up, so NOT_FOUND from GetSecret, AccessSecretVersion and AddSecretVersion proves that the
   * endpoint answers, the credentials are found and accepted, the project is right and the service
   * account may read and add versions. A wrong project answers PERMISSION_DENIED, as a missing role
   * does. The write probe runs only while the secret does not exist, so it never stores anything.
   *
   * Readiness probes come every few seconds from every replica, and GetSecret spends the project's
   * 600 reads/min shared with every other reader (AddSecretVersion its 600 writes/min). So the full
   * probe runs once, and again after any failed check; in between, AccessSecretVersion alone (its
   * own 90,000/min quota) still proves the endpoint, the credentials, the project and read access.
   */
  async check(options?: CallOptions): Promise<void> {
    try {
      await this.#probe(options, !this.#fullyChecked);
      this.#fullyChecked = true;
    } catch (error) {
      this.#fullyChecked = false;
      throw error;
    }
  }

  async #probe(options: CallOptions | undefined, full: boolean): Promise<void> {
    const budget = this.#budget(options);
    const project = this.#options.projectId;
    const name = secretName(project, `${this.#options.root ?? 'tfy-secret'}/@sgw-health`);
    const probe = async (rpc: string, permission: string, run: (o: object) => Promise<unknown>) => {
      try {
        await this.#call(rpc, budget, run);
        return true;
      } catch (error) {
        if (grpcCodeOf(error) === Code.NOT_FOUND) return false;
        // The secret exists (someone made it) and its newest version is destroyed: it answered.
        if (grpcCodeOf(error) === Code.FAILED_PRECONDITION && !full) return true;
        if (grpcCodeOf(error) !== Code.PERMISSION_DENIED) throw error;
        throw new BackendError(
          'denied',
          `GCP denied ${permission} in project ${project}: check GOOGLE_CLOUD_PROJECT and the service account's roles`,
          { cause: error, detail: (error as BackendError).detail },
        );
      }
    };
    const access = () =>
      probe('AccessSecretVersion', 'secretmanager.versions.access', (o) =>
        this.#client.accessSecretVersion({ name: versionName(name, LATEST_ALIAS) }, o),
      );
    if (!full) {
      await access();
      return;
    }
    const exists = await probe('GetSecret', 'secretmanager.secrets.get', (o) =>
      this.#client.getSecret({ name }, o),
    );
    if (exists) return;
    await access();
    await probe('AddSecretVersion', 'secretmanager.versions.add', (o) =>
      this.#client.addSecretVersion({ parent: name, payload: encodePayload('') }, o),
    );
  }

  async close(): Promise<void> {
    // A stub that never came up (no credentials) has nothing to close, and rejects if asked to.
    await this.#client.close().catch(() => undefined);
  }
}

/**
 * `SGW_BACKEND=gcp`: GOOGLE_CLOUD_PROJECT, Application Default Credentials, and the SGW_GCP_*
 * settings of GCP_ENV; the deadline from the gateway's settings (Secret Manager keeps all state).
 */
export function fromEnv(
  env: Record<string, string | undefined>,
  settings?: Partial<GatewaySettings>,
): GcpAdapter {
  const options = optionsFromEnv(env, settings);
  if (options.accessToken) {
    settings?.warn?.('SGW_GCP_ACCESS_TOKEN is a fixed token for development only: it is never refreshed');
  }
  return new GcpAdapter(options);
}
