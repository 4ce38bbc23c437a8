import { randomBytes } from 'node:crypto';

/** AWS Secrets Manager's state and rules, as its API documents them (and moto/LocalStack show). */
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
  /** When the name becomes free again after a force delete. */
  purgeAt?: number;
}

const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const MARKED = "You can't perform this operation on the secret because it was marked for deletion.";

export class AwsState {
  readonly secrets = new Map<string, AwsSecret>();
  constructor(
    readonly region: string,
    readonly account: string,
    public forceDeleteDelayMs: number,
    public defaultRecoveryWindowDays: number,
  ) {}

  #sweep(): void {
    const now = Date.now();
    for (const [name, s] of this.secrets)
      if (s.purgeAt !== undefined && s.purgeAt <= now) this.secrets.delete(name);
  }

  /** A secret by name or ARN (full, or partial without the random suffix). */
  find(id: unknown, allowDeleted = false): AwsSecret {
    this.#sweep();
    if (typeof id !== 'string' || id === '')
      throw new AwsError('ValidationException', 'SecretId must not be empty');
    let secret = this.secrets.get(id);
    if (!secret && id.startsWith('arn:'))
      secret = [...this.secrets.values()].find((s) => s.arn === id || s.arn.startsWith(`${id}-`));
    if (!secret) throw new AwsError('ResourceNotFoundException', NOT_FOUND);
    if (secret.deletedDate !== undefined && !allowDeleted)
      throw new AwsError('InvalidRequestException', MARKED);
    return secret;
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

  create(input: {
    Name?: unknown;
    ClientRequestToken?: unknown;
    SecretString?: unknown;
    Description?: unknown;
    KmsKeyId?: unknown;
    Tags?: unknown;
  }) {
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
    const now = Date.now();
    const secret: AwsSecret = {
      name,
      arn: `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomBytes(3).toString('hex')}`,
      description: typeof input.Description === 'string' ? input.Description : undefined,
      kmsKeyId: typeof input.KmsKeyId === 'string' ? input.KmsKeyId : undefined,
      tags: new Map(
        ((input.Tags as Array<{ Key: string; Value: string }>) ?? []).map((t) => [t.Key, t.Value]),
      ),
      versions: new Map(),
      created: now,
      changed: now,
    };
    this.secrets.set(name, secret);
    let versionId: string | undefined;
    if (typeof input.SecretString === 'string') {
      versionId = this.put(secret, AwsState.checkToken(input.ClientRequestToken), input.SecretString).id;
    }
    return { secret, versionId };
  }

  /** PutSecretValue: a new version becomes AWSCURRENT, the old current AWSPREVIOUS. */
  put(secret: AwsSecret, token: string, value: string, stages?: string[]): AwsVersion {
    if (Buffer.byteLength(value) > 65536)
      throw new AwsError('ValidationException', 'SecretString must be at most 65536 bytes');
    const existing = secret.versions.get(token);
    if (existing) {
      if (existing.value === value) return existing;
      throw new AwsError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    const version: AwsVersion = { id: token, value, stages: new Set(), created: Date.now() };
    secret.versions.set(token, version);
    for (const stage of stages ?? ['AWSCURRENT']) this.moveStage(secret, stage, token);
    secret.changed = Date.now();
    return version;
  }

  moveStage(secret: AwsSecret, stage: string, to: string | undefined, from?: string): void {
    if (to !== undefined && !secret.versions.has(to))
      throw new AwsError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret version: ${to}`,
      );
    const holder = [...secret.versions.values()].find((v) => v.stages.has(stage));
    if (from !== undefined && holder?.id !== from) {
      throw new AwsError(
        'InvalidParameterException',
        `The staging label ${stage} is not attached to version ${from}.`,
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
    if (stage === 'AWSCURRENT' && holder) {
      for (const v of secret.versions.values()) v.stages.delete('AWSPREVIOUS');
      holder.stages.add('AWSPREVIOUS');
    }
  }

  delete(secret: AwsSecret, window: unknown, force: unknown): number {
    if (force === true && window !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'You can’t use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.',
      );
    }
    if (force !== true && secret.deletedDate !== undefined)
      throw new AwsError('InvalidRequestException', MARKED);
    const days = window === undefined ? this.defaultRecoveryWindowDays : Number(window);
    if (force !== true && (!Number.isInteger(days) || days < 7 || days > 30)) {
      throw new AwsError(
        'InvalidParameterException',
        'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      );
    }
    const now = Date.now();
    secret.deletedDate = now;
    // Force delete is asynchronous in AWS: the name stays taken for a short while.
    if (force === true) secret.purgeAt = now + this.forceDeleteDelayMs;
    return force === true ? now : now + days * 86_400_000;
  }

  restore(secret: AwsSecret): void {
    if (secret.purgeAt !== undefined) throw new AwsError('InvalidRequestException', MARKED);
    secret.deletedDate = undefined;
  }
}
