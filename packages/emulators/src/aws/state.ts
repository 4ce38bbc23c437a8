import { randomBytes } from 'node:crypto';
import { StaleHistory } from './stale.ts';

/**
 * AWS Secrets Manager's state and rules, as its API reference documents them (and moto/LocalStack
 * show). Errors are `AwsError`s: the handler turns them into JSON 1.1 error answers.
 */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface AwsVersion {
  id: string;
  value: string | undefined;
  stages: Set<string>;
  created: number;
}

export interface AwsSecret {
  name: string;
  arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: Map<string, string>;
  versions: Map<string, AwsVersion>;
  created: number;
  changed: number;
  /** Set while scheduled for deletion (recovery window) or being force-deleted. */
  deletedDate?: number;
  /** When RestoreSecret last brought it back (writers may still see it deleted: `staleReadMs`). */
  restoredAt?: number;
  /** When the name becomes free again after a force delete. */
  purgeAt?: number;
}

export interface AwsStateOptions {
  region: string;
  account: string;
  /** How long a force-deleted name stays taken (AWS deletes asynchronously). */
  forceDeleteDelayMs: number;
  /** Recovery window when DeleteSecret names none (AWS: 30 days). */
  defaultRecoveryWindowDays: number;
  /** Unlabeled versions beyond 100 are dropped once older than this (AWS: 24 h). */
  deprecatedVersionAgeMs: number;
  /**
   * A secret being force-deleted is already gone for every call (ResourceNotFoundException), while
   * CreateSecret still refuses its name until `forceDeleteDelayMs` ends: AWS's deletion is
   * asynchronous and can answer this way. Off: the secret stays visible with its DeletedDate.
   */
  hideForceDeleted?: boolean;
  /**
   * Refuse a new version with LimitExceededException while 100 versions created in the last
   * `deprecatedVersionAgeMs` (AWS: 24 h) exist: AWS drops none of them, so the secret is full.
   */
  versionQuota?: boolean;
  /**
   * Eventual consistency: DescribeSecret, ListSecretVersionIds and GetSecretValue by staging label
   * answer from the secret as it was this many ms ago, and writes keep refusing a secret restored
   * less than this long ago as "marked for deletion". 0 (the default): strongly consistent. Set it
   * before the first request: history is recorded only while it is on.
   */
  staleReadMs?: number;
  /** The clock (tests move it to age versions past the quota's window). */
  now?: () => number;
}

const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
// The characters AWS documents as generally allowed in tags; lengths from the Tag shape.
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_TAGS = 50;
const MAX_VERSIONS = 100;
const MAX_TAG_VALUE = 255;
const MAX_VALUE_BYTES = 65_536;
const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const MARKED = "You can't perform this operation on the secret because it was marked for deletion.";
// AWS appends `-` and six random characters to a secret's name to make its ARN.
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

export class AwsState {
  readonly secrets = new Map<string, AwsSecret>();
  /** Operations (e.g. `GetSecretValue`) answered with AccessDeniedException, as an IAM policy would. */
  readonly denied = new Set<string>();
  /**
   * Access key ids the emulator knows. Empty (the default): any signed request is accepted. Otherwise
   * a request signed with another key id gets UnrecognizedClientException, as AWS answers a key id it
   * has never issued.
   */
  readonly accessKeyIds = new Set<string>();
  /** Requests per known operation past fault injection (refused ones too), for tests. */
  readonly requests = new Map<string, number>();

  /** Past states of each secret, while `staleReadMs` is on (stale.ts). */
  readonly history = new StaleHistory();

  constructor(public options: AwsStateOptions) {}

  now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Records a secret's state after a change, for stale reads. */
  #changed(name: string): void {
    const stale = this.options.staleReadMs ?? 0;
    if (stale > 0) this.history.record(name, this.secrets.get(name), this.now(), stale);
  }

  get region(): string {
    return this.options.region;
  }

  #sweep(): void {
    const now = this.now();
    for (const [name, s] of this.secrets)
      if (s.purgeAt !== undefined && s.purgeAt <= now) {
        this.secrets.delete(name);
        this.#changed(name);
      }
  }

  /**
   * A secret by name or ARN (full, or partial without the random suffix). A name that matches no
   * secret but ends like an ARN suffix is taken as `<name>-<suffix>` of another secret: the partial
   * ARN confusion AWS warns about, and the reason adapters must not create names ending that way.
   */
  find(id: unknown, allowDeleted = false): AwsSecret {
    const secret = this.#check(this.#resolve(id), allowDeleted);
    const stale = this.options.staleReadMs ?? 0;
    // A restore has not reached every writer yet.
    if (!allowDeleted && secret.restoredAt !== undefined && this.now() < secret.restoredAt + stale)
      throw new AwsError('InvalidRequestException', MARKED);
    return secret;
  }

  /**
   * `find` for the reads AWS serves eventually consistently: the secret as it was `staleReadMs` ago
   * (not found if it did not exist yet). Without staleness, or without recorded history, `find`.
   */
  findStale(id: unknown, allowDeleted = false): AwsSecret {
    const stale = this.options.staleReadMs ?? 0;
    if (stale <= 0) return this.find(id, allowDeleted);
    const live = this.#resolve(id);
    const name = live?.name ?? (typeof id === 'string' ? id : '');
    const past = this.history.at(name, this.now() - stale);
    return this.#check(past === 'unknown' ? live : past, allowDeleted);
  }

  #resolve(id: unknown): AwsSecret | undefined {
    this.#sweep();
    if (typeof id !== 'string' || id === '')
      throw new AwsError('ValidationException', 'SecretId must not be empty');
    let secret = this.secrets.get(id);
    if (!secret && id.startsWith('arn:'))
      secret = [...this.secrets.values()].find((s) => s.arn === id || s.arn.startsWith(`${id}-`));
    if (!secret && ARN_SUFFIX.test(id))
      secret = [...this.secrets.values()].find((s) => s.arn.endsWith(`:secret:${id}`));
    return secret;
  }

  #check(secret: AwsSecret | undefined, allowDeleted: boolean): AwsSecret {
    if (!secret || (secret.purgeAt !== undefined && this.options.hideForceDeleted))
      throw new AwsError('ResourceNotFoundException', NOT_FOUND);
    if (secret.deletedDate !== undefined && !allowDeleted)
      throw new AwsError('InvalidRequestException', MARKED);
    return secret;
  }

  /** Whether a secret answers to `id` (DeleteSecret with ForceDeleteWithoutRecovery needs none). */
  exists(id: unknown): boolean {
    return this.#resolve(id) !== undefined;
  }

  static checkToken(token: unknown): string {
    if (token === undefined)
      return randomBytes(16)
        .toString('hex')
        .replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');
    if (typeof token !== 'string' || token.length < 32 || token.length > 64) {
      throw new AwsError('ValidationException', 'ClientRequestToken must be between 32 and 64 characters');
    }
    return token;
  }

  create(input: Record<string, unknown>) {
    this.#sweep();
    const name = input.Name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new AwsError(
        'ValidationException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const existing = this.secrets.get(name);
    if (existing?.deletedDate !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    if (existing)
      throw new AwsError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    const tags = new Map<string, string>();
    setTags(tags, input.Tags);
    const now = this.now();
    const secret: AwsSecret = {
      name,
      arn: `arn:aws:secretsmanager:${this.region}:${this.options.account}:secret:${name}-${randomBytes(3).toString('hex')}`,
      description: typeof input.Description === 'string' ? input.Description : undefined,
      kmsKeyId: typeof input.KmsKeyId === 'string' ? input.KmsKeyId : undefined,
      tags,
      versions: new Map(),
      created: now,
      changed: now,
    };
    const token = AwsState.checkToken(input.ClientRequestToken);
    if (typeof input.SecretString === 'string') checkValue(input.SecretString);
    this.secrets.set(name, secret);
    let versionId: string | undefined;
    if (typeof input.SecretString === 'string') versionId = this.put(secret, token, input.SecretString).id;
    this.#changed(name);
    return { secret, versionId };
  }

  /** PutSecretValue: a new version becomes AWSCURRENT, the old current AWSPREVIOUS. */
  put(secret: AwsSecret, token: string, value: string, stages?: string[]): AwsVersion {
    checkValue(value);
    const existing = secret.versions.get(token);
    if (existing) {
      // A retried request is harmless; reusing a token for other data is refused.
      if (existing.value === value) return existing;
      throw new AwsError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    const now = this.now();
    if (this.options.versionQuota) this.#checkQuota(secret, now);
    const version: AwsVersion = { id: token, value, stages: new Set(), created: now };
    secret.versions.set(token, version);
    for (const stage of stages ?? ['AWSCURRENT']) {
      const holder = this.#holder(secret, stage);
      this.moveStage(secret, stage, token, holder?.id);
    }
    secret.changed = now;
    this.#prune(secret);
    this.#changed(secret.name);
    return version;
  }

  /**
   * The quota for secret versions: AWS removes no version younger than 24 hours (reference_limits,
   * PutSecretValue), so once a secret holds 100 of them a new one is refused until the oldest ages
   * out. The error is documented (PutSecretValue: LimitExceededException, "would exceed one of the
   * Secrets Manager quotas"); its message text is not, so this one is the emulator's.
   */
  #checkQuota(secret: AwsSecret, now: number): void {
    const since = now - this.options.deprecatedVersionAgeMs;
    let young = 0;
    for (const v of secret.versions.values()) if (v.created > since) young++;
    if (young >= MAX_VERSIONS)
      throw new AwsError(
        'LimitExceededException',
        `You can't create more than ${MAX_VERSIONS} versions of a secret in 24 hours.`,
      );
  }

  /** AWS drops the oldest unlabeled versions beyond 100, but none younger than 24 hours. */
  #prune(secret: AwsSecret): void {
    const old = this.now() - this.options.deprecatedVersionAgeMs;
    let excess = secret.versions.size - MAX_VERSIONS;
    for (const v of [...secret.versions.values()].sort((a, b) => a.created - b.created)) {
      if (excess <= 0) break;
      if (v.stages.size === 0 && v.created <= old) {
        secret.versions.delete(v.id);
        excess--;
      }
    }
  }

  #holder(secret: AwsSecret, stage: string): AwsVersion | undefined {
    return [...secret.versions.values()].find((v) => v.stages.has(stage));
  }

  /** UpdateSecretVersionStage: a label attached elsewhere moves only if its holder is named. */
  moveStage(secret: AwsSecret, stage: string, to: string | undefined, from?: string): void {
    if (to !== undefined && !secret.versions.has(to))
      throw new AwsError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret version: ${to}`,
      );
    const holder = this.#holder(secret, stage);
    if (holder && holder.id !== to && holder.id !== from) {
      throw new AwsError(
        'InvalidParameterException',
        from === undefined
          ? `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`
          : `The staging label ${stage} is currently attached to version ${holder.id}, not to version ${from}.`,
      );
    }
    if (to === undefined && stage === 'AWSCURRENT') {
      throw new AwsError(
        'InvalidParameterException',
        'You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.',
      );
    }
    if (holder && holder.id === to) return;
    holder?.stages.delete(stage);
    if (to === undefined) return;
    secret.versions.get(to)?.stages.add(stage);
    // Moving AWSCURRENT puts AWSPREVIOUS on the version that had it.
    if (stage === 'AWSCURRENT' && holder) {
      this.#holder(secret, 'AWSPREVIOUS')?.stages.delete('AWSPREVIOUS');
      holder.stages.add('AWSPREVIOUS');
    }
    secret.changed = this.now();
    this.#changed(secret.name);
  }

  static checkDeleteOptions(window: unknown, force: unknown): void {
    if (force === true && window !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'You can’t use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.',
      );
    }
  }

  delete(secret: AwsSecret, window: unknown, force: unknown): number {
    AwsState.checkDeleteOptions(window, force);
    if (force !== true && secret.deletedDate !== undefined)
      throw new AwsError('InvalidRequestException', MARKED);
    const days = window === undefined ? this.options.defaultRecoveryWindowDays : Number(window);
    if (force !== true && (!Number.isInteger(days) || days < 7 || days > 30)) {
      throw new AwsError(
        'InvalidParameterException',
        'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      );
    }
    const now = this.now();
    secret.deletedDate = now;
    // Force delete is asynchronous in AWS: the name stays taken for a short while.
    if (force === true) secret.purgeAt = now + this.options.forceDeleteDelayMs;
    this.#changed(secret.name);
    return force === true ? now : now + days * 86_400_000;
  }

  restore(secret: AwsSecret): void {
    if (secret.purgeAt !== undefined) throw new AwsError('InvalidRequestException', MARKED);
    if (secret.deletedDate !== undefined) secret.restoredAt = this.now();
    secret.deletedDate = undefined;
    this.#changed(secret.name);
  }

  tag(secret: AwsSecret, tags: unknown): void {
    const next = new Map(secret.tags);
    setTags(next, tags);
    secret.tags.clear();
    for (const [k, v] of next) secret.tags.set(k, v);
    this.#changed(secret.name);
  }

  untag(secret: AwsSecret, keys: unknown): void {
    for (const k of (keys as string[]) ?? []) secret.tags.delete(k);
    this.#changed(secret.name);
  }
}

function checkValue(value: string): void {
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES)
    throw new AwsError(
      'ValidationException',
      "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536",
    );
}

/** Validates every tag first, so a refused request changes nothing. */
function setTags(into: Map<string, string>, tags: unknown): void {
  const list = (tags ?? []) as Array<{ Key?: unknown; Value?: unknown }>;
  const next = new Map(into);
  for (const { Key, Value = '' } of list) {
    if (typeof Key !== 'string' || Key.length < 1 || Key.length > 128 || !TAG_TEXT.test(Key))
      throw new AwsError('ValidationException', `Invalid tag key: ${JSON.stringify(Key)}`);
    // TagResource's doc: "Maximum value length: 255 Unicode characters in UTF-8" (the Tag data type
    // says 256): the stricter of the two, which is what a client must stay within.
    if (typeof Value !== 'string' || Value.length > MAX_TAG_VALUE || !TAG_TEXT.test(Value))
      throw new AwsError('ValidationException', `Invalid value for tag ${Key}`);
    if (Key.toLowerCase().startsWith('aws:'))
      throw new AwsError('InvalidParameterException', 'Tag keys starting with aws: are reserved');
    next.set(Key, Value);
  }
  if (next.size > MAX_TAGS)
    throw new AwsError('ValidationException', `A secret can have at most ${MAX_TAGS} tags.`);
  into.clear();
  for (const [k, v] of next) into.set(k, v);
}
