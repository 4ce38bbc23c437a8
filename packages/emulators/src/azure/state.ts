import { randomBytes } from 'node:crypto';

/** Azure Key Vault's secret rules, as its REST reference documents them (and lowkey-vault shows). */
export class AzureError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly inner?: string,
  ) {
    super(message);
  }
}

export interface AzureVersion {
  /** 32 lower-case hex characters, like Azure's; carries no order. */
  id: string;
  value: string;
  contentType?: string;
  enabled: boolean;
  tags: Record<string, string>;
  /** Seconds since the epoch, as Azure reports them (so two versions can share a second). */
  created: number;
  updated: number;
  /** Creation order, for "latest"; Azure does not expose it. */
  seq: number;
}

export interface AzureSecret {
  /** The name as first created; lookups ignore case. */
  name: string;
  versions: Map<string, AzureVersion>;
}

export interface DeletedSecret {
  secret: AzureSecret;
  deletedDate: number;
  scheduledPurgeDate: number;
}

/** A name that is busy for a while after purge (being deleted) or recover (being recovered). */
interface Busy {
  until: number;
  inner: 'ObjectIsBeingDeleted' | 'ObjectIsBeingRecovered';
}

export const NAME = /^[0-9a-zA-Z-]{1,127}$/;
/** Azure's documented limit for a secret value: 25 KB (taken here as 25 * 1024 bytes). */
export const MAX_VALUE_BYTES = 25 * 1024;

export interface AzureStateOptions {
  purgeProtection: boolean;
  softDeleteDays: number;
  /** How long a purged name answers 409 ObjectIsBeingDeleted. */
  purgeBusyMs: number;
  /** How long a recovered secret answers 409 ObjectIsBeingRecovered (and 404 to reads). */
  recoverBusyMs: number;
}

const seconds = () => Math.floor(Date.now() / 1000);
let seq = 0;

export class AzureState {
  /** Keyed by lower-cased name: Key Vault names are case-insensitive. */
  readonly secrets = new Map<string, AzureSecret>();
  readonly deleted = new Map<string, DeletedSecret>();
  readonly busy = new Map<string, Busy>();

  constructor(public options: AzureStateOptions) {}

  static checkName(name: string): void {
    if (!NAME.test(name)) {
      throw new AzureError(
        400,
        'BadParameter',
        "The request URI contains an invalid name: names may contain only 0-9, a-z, A-Z and '-', 1 to 127 characters.",
      );
    }
  }

  #busy(name: string): Busy | undefined {
    const key = name.toLowerCase();
    const busy = this.busy.get(key);
    if (busy && busy.until <= Date.now()) {
      this.busy.delete(key);
      return undefined;
    }
    return busy;
  }

  #notFound(name: string): AzureError {
    return new AzureError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${name} was not found in this key vault.`,
    );
  }

  /** A live secret for reading: recovering secrets read as absent until recovery completes. */
  find(name: string): AzureSecret {
    AzureState.checkName(name);
    const secret = this.secrets.get(name.toLowerCase());
    if (!secret || this.#busy(name)) throw this.#notFound(name);
    return secret;
  }

  /** A live secret for changing it: recovering secrets answer 409. */
  findForWrite(name: string): AzureSecret {
    AzureState.checkName(name);
    this.#refuseBusy(name);
    return this.find(name);
  }

  #refuseBusy(name: string): void {
    const busy = this.#busy(name);
    if (busy?.inner === 'ObjectIsBeingDeleted')
      throw new AzureError(409, 'Conflict', `Secret ${name} is currently being deleted.`, busy.inner);
    if (busy?.inner === 'ObjectIsBeingRecovered')
      throw new AzureError(409, 'Conflict', `Secret ${name} is currently being recovered.`, busy.inner);
  }

  version(name: string, id: string | undefined): AzureVersion {
    const secret = this.find(name);
    const version =
      id === undefined || id === ''
        ? [...secret.versions.values()].sort((a, b) => b.seq - a.seq)[0]
        : secret.versions.get(id.toLowerCase());
    if (!version) throw this.#notFound(id ? `${name}/${id}` : name);
    return version;
  }

  set(
    name: string,
    input: { value: string; contentType?: string; enabled?: boolean; tags?: Record<string, string> },
  ): { secret: AzureSecret; version: AzureVersion } {
    AzureState.checkName(name);
    this.#refuseBusy(name);
    const key = name.toLowerCase();
    if (this.deleted.has(key)) {
      throw new AzureError(
        409,
        'Conflict',
        `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
        'ObjectIsDeletedButRecoverable',
      );
    }
    if (Buffer.byteLength(input.value) > MAX_VALUE_BYTES)
      throw new AzureError(400, 'BadParameter', 'The secret value exceeds the maximum size of 25 KB.');
    const tags = input.tags ?? {};
    if (Object.keys(tags).length > 15)
      throw new AzureError(400, 'BadParameter', 'A secret version can have at most 15 tags.');
    let secret = this.secrets.get(key);
    if (!secret) {
      secret = { name, versions: new Map() };
      this.secrets.set(key, secret);
    }
    const now = seconds();
    const version: AzureVersion = {
      id: randomBytes(16).toString('hex'),
      value: input.value,
      contentType: input.contentType,
      enabled: input.enabled ?? true,
      tags: { ...tags },
      created: now,
      updated: now,
      seq: ++seq,
    };
    secret.versions.set(version.id, version);
    return { secret, version };
  }

  update(
    name: string,
    id: string,
    patch: { enabled?: boolean; tags?: Record<string, string>; contentType?: string },
  ): AzureVersion {
    this.findForWrite(name);
    const version = this.version(name, id);
    if (patch.enabled !== undefined) version.enabled = patch.enabled;
    if (patch.tags !== undefined) version.tags = { ...patch.tags };
    if (patch.contentType !== undefined) version.contentType = patch.contentType;
    version.updated = seconds();
    return version;
  }

  /** Soft delete (mandatory in Key Vault): the secret and all its versions move to deleted secrets. */
  delete(name: string): DeletedSecret {
    const secret = this.findForWrite(name);
    const key = name.toLowerCase();
    this.secrets.delete(key);
    const now = seconds();
    const deleted = {
      secret,
      deletedDate: now,
      scheduledPurgeDate: now + this.options.softDeleteDays * 86_400,
    };
    this.deleted.set(key, deleted);
    return deleted;
  }

  findDeleted(name: string): DeletedSecret {
    AzureState.checkName(name);
    const deleted = this.deleted.get(name.toLowerCase());
    if (!deleted) throw new AzureError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
    return deleted;
  }

  purge(name: string): void {
    this.findDeleted(name);
    if (this.options.purgeProtection) {
      throw new AzureError(
        403,
        'Forbidden',
        'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.',
      );
    }
    const key = name.toLowerCase();
    this.deleted.delete(key);
    if (this.options.purgeBusyMs > 0)
      this.busy.set(key, { until: Date.now() + this.options.purgeBusyMs, inner: 'ObjectIsBeingDeleted' });
  }

  recover(name: string): AzureSecret {
    this.#refuseBusy(name);
    const { secret } = this.findDeleted(name);
    const key = name.toLowerCase();
    this.deleted.delete(key);
    this.secrets.set(key, secret);
    if (this.options.recoverBusyMs > 0)
      this.busy.set(key, { until: Date.now() + this.options.recoverBusyMs, inner: 'ObjectIsBeingRecovered' });
    return secret;
  }
}
