/**
 * GCP Secret Manager's state and rules: secrets with labels and annotations, versions numbered from
 * 1 with ENABLED/DISABLED/DESTROYED states, payloads up to 64 KiB, `latest` = the newest version
 * whatever its state.
 */
export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface GcpVersion {
  number: number;
  state: VersionState;
  data: Buffer | undefined;
  crc32c: bigint;
  /** The client sent data_crc32c with the payload (SecretVersion.client_specified_payload_checksum). */
  clientChecksum: boolean;
  created: number;
  destroyed?: number;
}

/** Secret.replication as the wire has it (proto field names). */
export type Replication =
  | { automatic: { customer_managed_encryption?: { kms_key_name?: string } } }
  | {
      user_managed: {
        replicas: Array<{ location: string; customer_managed_encryption?: { kms_key_name?: string } }>;
      };
    };

export interface GcpSecret {
  id: string;
  replication: Replication;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  created: number;
  versions: Map<number, GcpVersion>;
  next: number;
}

export class GcpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

// gRPC status codes
export const Code = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/** CRC32C (Castagnoli), as Secret Manager checks payloads with. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();
export function crc32c(data: Uint8Array): bigint {
  let crc = 0xffffffff;
  for (const byte of data) crc = (TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return BigInt((crc ^ 0xffffffff) >>> 0);
}

/** A copy that later changes to the live secret (version states, destroyed payloads) do not reach. */
function snapshot(s: GcpSecret): GcpSecret {
  return { ...s, versions: new Map([...s.versions].map(([n, v]) => [n, { ...v }])) };
}

export class GcpState {
  readonly secrets = new Map<string, GcpSecret>();
  /**
   * Stale reads (0 = off): how far behind the eventually consistent reads answer. Each change keeps a
   * copy of the secret as it was before, valid `until` the change, for as long as a read may see it.
   */
  staleReadMs = 0;
  readonly #history = new Map<string, Array<{ until: number; secret: GcpSecret | undefined }>>();
  /**
   * An organisation policy `constraints/gcp.resourceLocations`: the regions secrets may be created
   * in; undefined = no policy. Automatic replication is global, so any policy refuses it.
   */
  allowedLocations: Set<string> | undefined;
  constructor(readonly project: string) {}

  /**
   * GCP's words (GoogleCloudPlatform/scion#1531, firebase-tools#6454): FAILED_PRECONDITION
   * "Constraint constraints/gcp.resourceLocations violated for [orgpolicy:projects/N] attempting to
   * create a secret in [global]." (REST shows it as 400.)
   */
  #checkLocations(replication: Replication): void {
    if (!this.allowedLocations) return;
    const wanted =
      'automatic' in replication ? ['global'] : replication.user_managed.replicas.map((r) => r.location);
    const refused = wanted.find((l) => !this.allowedLocations?.has(l));
    if (refused !== undefined) {
      throw new GcpError(
        Code.FAILED_PRECONDITION,
        `Constraint constraints/gcp.resourceLocations violated for [orgpolicy:projects/0] attempting to create a secret in [${refused}]. For more information, see https://cloud.google.com/resource-manager/docs/organization-policy/defining-locations.`,
      );
    }
  }

  parent(): string {
    return `projects/${this.project}`;
  }

  /**
   * Another project is one we have no access to: GCP answers PERMISSION_DENIED "(or it may not
   * exist)" rather than saying whether it exists.
   */
  checkProject(parent: string, permission: string): void {
    if (parent !== this.parent()) {
      throw new GcpError(
        Code.PERMISSION_DENIED,
        `Permission '${permission}' denied for resource '${parent}' (or it may not exist).`,
      );
    }
  }

  /** Called before every change of secret `id`: remembers it as it was, while stale reads may see it. */
  #changing(id: string): void {
    if (this.staleReadMs <= 0) return;
    const now = Date.now();
    const cutoff = now - this.staleReadMs;
    const log = (this.#history.get(id) ?? []).filter((e) => e.until > cutoff);
    const before = this.secrets.get(id);
    log.push({ until: now, secret: before && snapshot(before) });
    this.#history.set(id, log);
  }

  /** Secret `id` as a read `lagMs` behind sees it: the copy that was live then, else the live one. */
  #find(id: string, lagMs: number): GcpSecret | undefined {
    if (lagMs <= 0) return this.secrets.get(id);
    const cutoff = Date.now() - lagMs;
    const entry = this.#history.get(id)?.find((e) => e.until > cutoff);
    return entry ? entry.secret : this.secrets.get(id);
  }

  /** Every secret, as a read `lagMs` behind sees them. */
  list(lagMs = 0): GcpSecret[] {
    const ids = new Set([...this.secrets.keys(), ...(lagMs > 0 ? this.#history.keys() : [])]);
    return [...ids].map((id) => this.#find(id, lagMs)).filter((s): s is GcpSecret => s !== undefined);
  }

  /** `projects/P/secrets/S` -> the secret (as a read `lagMs` behind sees it), or NOT_FOUND. */
  secret(name: string, lagMs = 0): GcpSecret {
    const m = /^(projects\/[^/]+)\/secrets\/([^/]+)$/.exec(name);
    if (!m) throw new GcpError(Code.INVALID_ARGUMENT, `Invalid resource field value in the request: ${name}`);
    this.checkProject(m[1] as string, 'secretmanager.secrets.get');
    const s = this.#find(m[2] as string, lagMs);
    if (!s) throw new GcpError(Code.NOT_FOUND, `Secret [${name}] not found.`);
    return s;
  }

  /** DeleteSecret: the secret and all its versions, at once. */
  remove(name: string): void {
    const s = this.secret(name);
    this.#changing(s.id);
    this.secrets.delete(s.id);
  }

  /** `.../versions/N` or `.../versions/latest` (the newest, whatever its state). */
  version(name: string, lagMs = 0): { secret: GcpSecret; version: GcpVersion } {
    const m = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/]+)$/.exec(name);
    if (!m) throw new GcpError(Code.INVALID_ARGUMENT, `Invalid resource field value in the request: ${name}`);
    const secret = this.secret(m[1] as string, lagMs);
    const wanted = m[2] === 'latest' ? Math.max(0, ...secret.versions.keys()) : Number(m[2]);
    const version = secret.versions.get(wanted);
    if (!version) throw new GcpError(Code.NOT_FOUND, `Secret Version [${name}] not found.`);
    return { secret, version };
  }

  create(
    parent: string,
    id: string,
    input: {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      replication?: Partial<Record<'automatic' | 'user_managed', unknown>>;
    },
  ): GcpSecret {
    this.checkProject(parent, 'secretmanager.secrets.create');
    if (!SECRET_ID.test(id)) {
      throw new GcpError(
        Code.INVALID_ARGUMENT,
        'Secret ID must be at most 255 characters of letters, numbers, underscores and hyphens.',
      );
    }
    const replication = parseReplication(input.replication);
    this.#checkLocations(replication);
    for (const [k, v] of Object.entries(input.labels ?? {})) {
      if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v))
        throw new GcpError(Code.INVALID_ARGUMENT, `Invalid label ${k}`);
    }
    const annotationBytes = Object.entries(input.annotations ?? {}).reduce(
      (n, [k, v]) => n + k.length + v.length,
      0,
    );
    if (annotationBytes > 16 * 1024)
      throw new GcpError(Code.INVALID_ARGUMENT, 'Annotations must total at most 16 KiB');
    if (this.secrets.has(id))
      throw new GcpError(Code.ALREADY_EXISTS, `Secret [${parent}/secrets/${id}] already exists.`);
    this.#changing(id);
    const secret: GcpSecret = {
      id,
      replication,
      labels: input.labels ?? {},
      annotations: input.annotations ?? {},
      created: Date.now(),
      versions: new Map(),
      next: 1,
    };
    this.secrets.set(id, secret);
    return secret;
  }

  add(parent: string, data: Buffer, crc: bigint | undefined): { secret: GcpSecret; version: GcpVersion } {
    const secret = this.secret(parent);
    if (data.length > 65536)
      throw new GcpError(Code.INVALID_ARGUMENT, 'Secret Payload cannot be larger than 65536 bytes.');
    const actual = crc32c(data);
    if (crc !== undefined && crc !== actual)
      throw new GcpError(Code.INVALID_ARGUMENT, 'Checksum mismatch: data_crc32c does not match the payload.');
    this.#changing(secret.id);
    const version: GcpVersion = {
      number: secret.next++,
      state: 'ENABLED',
      data,
      crc32c: actual,
      clientChecksum: crc !== undefined,
      created: Date.now(),
    };
    secret.versions.set(version.number, version);
    return { secret, version };
  }

  setState(name: string, to: VersionState): { secret: GcpSecret; version: GcpVersion } {
    const found = this.version(name);
    const { version } = found;
    if (version.state === 'DESTROYED') {
      throw new GcpError(Code.FAILED_PRECONDITION, `Secret Version [${name}] is in DESTROYED state.`);
    }
    this.#changing(found.secret.id);
    version.state = to;
    if (to === 'DESTROYED') {
      version.data = undefined;
      version.destroyed = Date.now();
    }
    return found;
  }
}

/** Secret.replication: exactly one of automatic / user_managed (with at least one replica). */
function parseReplication(
  input: Partial<Record<'automatic' | 'user_managed', unknown>> | undefined,
): Replication {
  if (input?.automatic)
    return { automatic: input.automatic as { customer_managed_encryption?: { kms_key_name?: string } } };
  const replicas = (input?.user_managed as { replicas?: Array<{ location?: string }> } | undefined)?.replicas;
  if (input?.user_managed) {
    if (!replicas?.length || replicas.some((r) => !r.location)) {
      throw new GcpError(
        Code.INVALID_ARGUMENT,
        'Replication.UserManaged requires at least one replica with a location.',
      );
    }
    return { user_managed: { replicas: replicas as Array<{ location: string }> } };
  }
  throw new GcpError(Code.INVALID_ARGUMENT, 'Replication policy is required.');
}
