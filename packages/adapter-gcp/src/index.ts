import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  type CallOptions,
  type StoredSecret,
} from '@secret-gateway/core';
import { createGcpClient, type GcpClient } from './client.ts';
import type { GcpAdapterOptions } from './config.ts';
import { ALREADY_EXISTS, FAILED_PRECONDITION, grpcCode, mapGcpError, NOT_FOUND } from './errors.ts';
import { isHashedId, PATH_ANNOTATION, secretId } from './names.ts';

export { GCP_ENV, type GcpAdapterOptions } from './config.ts';
export { decodePath, encodePath, secretId } from './names.ts';

/** `.../versions/7` -> 7 */
const versionNumber = (name: string | null | undefined) => Number(name?.slice(name.lastIndexOf('/') + 1));

/**
 * GCP Secret Manager over gRPC. Versions are native (GCP numbers them from 1 and never reuses a
 * number); latest is the newest ENABLED version, never the raw `latest` alias, which fails once the
 * newest version is destroyed; deleting a version destroys it; deleting a secret deletes it.
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

  constructor(options: GcpAdapterOptions, client?: GcpClient) {
    this.#options = options;
    this.#client = client ?? createGcpClient(options);
  }

  #secret(path: string): string {
    return `projects/${this.#options.projectId}/secrets/${secretId(path)}`;
  }

  /**
   * One RPC: no SDK retries (its default retries AccessSecretVersion for up to 600 s), a timeout,
   * and cancelled when the gateway's deadline fires.
   */
  async #call<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (opts: object) => Promise<T>,
  ): Promise<T> {
    const opts = { timeout: this.#options.timeoutMs ?? 5000, retry: { retryCodes: [] } };
    const promise = fn(opts) as Promise<T> & { cancel?: () => void };
    const onAbort = () => promise.cancel?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await promise;
    } catch (error) {
      throw Object.assign(mapGcpError(error, what), { grpcCode: grpcCode(error) });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    const parent = this.#secret(path);
    const add = () =>
      this.#call('add version', options?.signal, (o) =>
        this.#client.addSecretVersion({ parent, payload: { data: Buffer.from(value, 'utf8') } }, o),
      );
    try {
      const [version] = await add();
      return versionNumber(version.name);
    } catch (error) {
      if ((error as { grpcCode?: unknown }).grpcCode !== NOT_FOUND) throw error;
    }
    const id = secretId(path);
    try {
      await this.#call('create secret', options?.signal, (o) =>
        this.#client.createSecret(
          {
            parent: `projects/${this.#options.projectId}`,
            secretId: id,
            secret: {
              replication: { automatic: {} },
              labels: { 'managed-by': 'secret-gateway', ...this.#options.labels },
              ...(isHashedId(id) ? { annotations: { [PATH_ANNOTATION]: path } } : {}),
            },
          },
          o,
        ),
      );
    } catch (error) {
      // Another writer created it first: fine, add our version to it.
      if ((error as { grpcCode?: unknown }).grpcCode !== ALREADY_EXISTS) throw error;
    }
    const [version] = await add();
    return versionNumber(version.name);
  }

  async read(path: string, version: number | undefined, options?: CallOptions): Promise<StoredSecret | null> {
    const secret = this.#secret(path);
    if (version !== undefined) return this.#access(`${secret}/versions/${version}`, options?.signal);
    // Cheap path: `latest` is right whenever the newest version is enabled.
    const latest = await this.#access(`${secret}/versions/latest`, options?.signal, true);
    if (latest !== 'disabled') return latest;
    // The newest version is destroyed or disabled: find the newest ENABLED one (not relying on the
    // listing's order).
    const [versions] = await this.#call('list versions', options?.signal, (o) =>
      this.#client.listSecretVersions({ parent: secret, filter: 'state:ENABLED' }, o),
    );
    const newest = Math.max(0, ...versions.map((v) => versionNumber(v.name)));
    return newest > 0 ? this.#access(`${secret}/versions/${newest}`, options?.signal) : null;
  }

  async #access(
    name: string,
    signal: AbortSignal | undefined,
    reportDisabled: true,
  ): Promise<StoredSecret | null | 'disabled'>;
  async #access(name: string, signal: AbortSignal | undefined): Promise<StoredSecret | null>;
  async #access(
    name: string,
    signal: AbortSignal | undefined,
    reportDisabled = false,
  ): Promise<StoredSecret | null | 'disabled'> {
    try {
      const [answer] = await this.#call('access', signal, (o) =>
        this.#client.accessSecretVersion({ name }, o),
      );
      const data = answer.payload?.data;
      const text = typeof data === 'string' ? data : Buffer.from(data ?? new Uint8Array()).toString('utf8');
      return { value: text, version: versionNumber(answer.name) };
    } catch (error) {
      const code = (error as { grpcCode?: unknown }).grpcCode;
      if (code === NOT_FOUND) return null;
      // Destroyed or disabled: deleted for the gateway.
      if (code === FAILED_PRECONDITION) return reportDisabled ? 'disabled' : null;
      throw error;
    }
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    try {
      await this.#call('destroy version', options?.signal, (o) =>
        this.#client.destroySecretVersion({ name: `${this.#secret(path)}/versions/${version}` }, o),
      );
      return true;
    } catch (error) {
      const code = (error as { grpcCode?: unknown }).grpcCode;
      if (code === NOT_FOUND || code === FAILED_PRECONDITION) return false;
      throw error;
    }
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    try {
      await this.#call('delete secret', options?.signal, (o) =>
        this.#client.deleteSecret({ name: this.#secret(path) }, o),
      );
      return true;
    } catch (error) {
      if ((error as { grpcCode?: unknown }).grpcCode === NOT_FOUND) return false;
      throw error;
    }
  }

  async check(options?: CallOptions): Promise<void> {
    await this.#call('check', options?.signal, (o) =>
      this.#client.listSecrets(
        { parent: `projects/${this.#options.projectId}`, pageSize: 1 },
        { ...o, autoPaginate: false },
      ),
    );
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** `SGW_BACKEND=gcp`: GOOGLE_CLOUD_PROJECT, ADC, and SGW_GCP_* (see GCP_ENV). */
export function fromEnv(env: Record<string, string | undefined>): GcpAdapter {
  const projectId = env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT;
  if (!projectId) throw new Error('SGW_BACKEND=gcp needs GOOGLE_CLOUD_PROJECT');
  const labels = Object.fromEntries(
    (env.SGW_GCP_LABELS ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=', 2) as [string, string]),
  );
  return new GcpAdapter({
    projectId,
    endpoint: env.SGW_GCP_ENDPOINT || undefined,
    insecure: env.SGW_GCP_INSECURE === 'true',
    accessToken: env.SGW_GCP_ACCESS_TOKEN || undefined,
    timeoutMs: env.SGW_BACKEND_TIMEOUT_MS ? Number(env.SGW_BACKEND_TIMEOUT_MS) : undefined,
    labels,
  });
}
