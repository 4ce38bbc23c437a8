import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretResponse,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  type CallOptions,
  type StoredSecret,
  VersionConflictError,
} from '@secret-gateway/core';
import { createAwsClient } from './client.ts';
import type { AwsAdapterOptions, DeletePolicy } from './config.ts';
import { isMarkedForDeletion, isNotFound, mapAwsError } from './errors.ts';
import { isHashedName, secretName } from './names.ts';
import {
  DELETED_TAG,
  GENERATION_TAG,
  newGeneration,
  parseToken,
  tombstonesFrom,
  tombstoneTags,
  versionToken,
} from './versions.ts';

export { AWS_ENV, type AwsAdapterOptions, type DeletePolicy } from './config.ts';
export { pathOf, secretName } from './names.ts';
export { parseToken, versionToken } from './versions.ts';

/** What DescribeSecret tells us about a path, in the adapter's terms. */
interface SecretState {
  name: string;
  /** Scheduled for deletion (or being force-deleted): absent for the gateway. */
  deleted: boolean;
  generation: string;
  tombstones: Set<number>;
  /** The version AWSCURRENT points at, if it belongs to the current generation. */
  current: number | undefined;
  raw: DescribeSecretResponse;
}

/**
 * AWS Secrets Manager. Integer versions live in deterministic ClientRequestTokens; latest is
 * AWSCURRENT, moved down when the newest version is deleted; deleted versions are tombstoned in tags.
 */
export class AwsAdapter implements BackendAdapter {
  readonly contractVersion = ADAPTER_CONTRACT_VERSION;
  readonly name = 'aws';
  readonly capabilities: AdapterCapabilities = {
    maxValueBytes: 65_536,
    maxPathBytes: 1024,
    // Concurrent writers are caught by the token conflict; the first writes after a delete-all under
    // the recovery-window policy (restore + new generation) are serialised per process only.
    atomicVersionsAcrossReplicas: false,
    list: false,
  };
  readonly deletePolicy: DeletePolicy;
  readonly #client: SecretsManagerClient;
  readonly #options: AwsAdapterOptions;

  constructor(options: AwsAdapterOptions, client?: SecretsManagerClient) {
    this.#options = options;
    this.deletePolicy = options.deletePolicy ?? 'recovery-window';
    this.#client = client ?? createAwsClient(options);
  }

  // biome-ignore lint/suspicious/noExplicitAny: every command of the client goes through here
  async #send<T>(what: string, command: any, signal?: AbortSignal): Promise<T> {
    try {
      return (await this.#client.send(command, { abortSignal: signal })) as T;
    } catch (error) {
      throw Object.assign(mapAwsError(error, what), { awsError: error });
    }
  }

  async #state(path: string, signal?: AbortSignal): Promise<SecretState | undefined> {
    const name = secretName(path);
    let raw: DescribeSecretResponse;
    try {
      raw = await this.#send('describe', new DescribeSecretCommand({ SecretId: name }), signal);
    } catch (error) {
      if (isNotFound((error as { awsError?: unknown }).awsError)) return undefined;
      throw error;
    }
    const generation = raw.Tags?.find((t) => t.Key === GENERATION_TAG)?.Value ?? '';
    const currentId = Object.entries(raw.VersionIdsToStages ?? {}).find(([, stages]) =>
      stages.includes('AWSCURRENT'),
    )?.[0];
    const parsed = parseToken(currentId);
    return {
      name,
      deleted: raw.DeletedDate !== undefined,
      generation,
      tombstones: tombstonesFrom(raw.Tags),
      current: parsed?.generation === generation ? parsed.version : undefined,
      raw,
    };
  }

  /** Every version number of the current generation AWS still lists (labelled or not). */
  async #versionNumbers(state: SecretState, signal?: AbortSignal): Promise<number[]> {
    const numbers: number[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.#send<{ Versions?: Array<{ VersionId?: string }>; NextToken?: string }>(
        'list versions',
        new ListSecretVersionIdsCommand({
          SecretId: state.name,
          IncludeDeprecated: true,
          MaxResults: 100,
          NextToken,
        }),
        signal,
      );
      for (const v of page.Versions ?? []) {
        const parsed = parseToken(v.VersionId);
        if (parsed?.generation === state.generation) numbers.push(parsed.version);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return numbers;
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    const signal = options?.signal;
    const state = await this.#state(path, signal);
    if (!state) return this.#create(path, value, signal);
    if (state.deleted) {
      if (this.deletePolicy === 'force' || state.raw.DeletedDate === undefined)
        return this.#create(path, value, signal);
      return this.#restoreAsNewGeneration(state, value, signal);
    }
    const numbers = await this.#versionNumbers(state, signal);
    const next = Math.max(0, ...numbers, ...state.tombstones, state.current ?? 0) + 1;
    await this.#send(
      'put',
      new PutSecretValueCommand({
        SecretId: state.name,
        SecretString: value,
        ClientRequestToken: versionToken(state.generation, next),
      }),
      signal,
    );
    return next;
  }

  async #create(path: string, value: string, signal?: AbortSignal): Promise<number> {
    const generation = newGeneration();
    const name = secretName(path);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#send(
          'create',
          new CreateSecretCommand({
            Name: name,
            SecretString: value,
            ClientRequestToken: versionToken(generation, 1),
            ...(isHashedName(name) ? { Description: path } : {}),
            ...(this.#options.kmsKeyId ? { KmsKeyId: this.#options.kmsKeyId } : {}),
            Tags: [
              { Key: GENERATION_TAG, Value: generation },
              ...Object.entries(this.#options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
            ],
          }),
          signal,
        );
        return 1;
      } catch (error) {
        const aws = (error as { awsError?: unknown }).awsError;
        if (!isMarkedForDeletion(aws)) throw error;
        const state = await this.#state(path, signal);
        // Inside a recovery window: restore instead. After a force delete: AWS is still deleting the
        // name asynchronously; wait and retry until it is free (the deadline bounds this loop).
        if (state?.deleted && this.deletePolicy === 'recovery-window')
          return this.#restoreAsNewGeneration(state, value, signal);
        if (state && !state.deleted)
          throw new VersionConflictError('AWS create: another writer re-created this secret first');
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        signal?.throwIfAborted();
      }
    }
  }

  /** Recovery-window policy: bring the secret back with a fresh generation, so old versions stay hidden. */
  async #restoreAsNewGeneration(state: SecretState, value: string, signal?: AbortSignal): Promise<number> {
    const generation = newGeneration();
    await this.#send('restore', new RestoreSecretCommand({ SecretId: state.name }), signal);
    await this.#send(
      'tag',
      new TagResourceCommand({ SecretId: state.name, Tags: [{ Key: GENERATION_TAG, Value: generation }] }),
      signal,
    );
    const stale = (state.raw.Tags ?? [])
      .map((t) => t.Key ?? '')
      .filter((k) => k === DELETED_TAG || k.startsWith(`${DELETED_TAG}-`));
    if (stale.length)
      await this.#send('untag', new UntagResourceCommand({ SecretId: state.name, TagKeys: stale }), signal);
    await this.#send(
      'put',
      new PutSecretValueCommand({
        SecretId: state.name,
        SecretString: value,
        ClientRequestToken: versionToken(generation, 1),
      }),
      signal,
    );
    return 1;
  }

  async read(path: string, version: number | undefined, options?: CallOptions): Promise<StoredSecret | null> {
    const signal = options?.signal;
    const state = await this.#state(path, signal);
    if (!state || state.deleted || !state.generation) return null;
    const wanted = version ?? state.current;
    if (wanted === undefined || state.tombstones.has(wanted)) return null;
    try {
      const answer = await this.#send<{ SecretString?: string }>(
        'get',
        new GetSecretValueCommand({
          SecretId: state.name,
          VersionId: versionToken(state.generation, wanted),
        }),
        signal,
      );
      return typeof answer.SecretString === 'string' ? { value: answer.SecretString, version: wanted } : null;
    } catch (error) {
      const aws = (error as { awsError?: unknown }).awsError;
      if (isNotFound(aws) || isMarkedForDeletion(aws)) return null;
      throw error;
    }
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    const signal = options?.signal;
    const state = await this.#state(path, signal);
    if (!state || state.deleted || state.tombstones.has(version)) return false;
    const numbers = await this.#versionNumbers(state, signal);
    if (!numbers.includes(version)) return false;
    // Tombstone first: from here on no reader is served this version, whatever happens next.
    const tombstones = new Set([...state.tombstones, version]);
    await this.#send(
      'tag',
      new TagResourceCommand({ SecretId: state.name, Tags: tombstoneTags(tombstones) }),
      signal,
    );
    const id = versionToken(state.generation, version);
    const stages = state.raw.VersionIdsToStages?.[id] ?? [];
    if (stages.includes('AWSCURRENT')) {
      const below = numbers.filter((n) => n < version && !tombstones.has(n)).sort((a, b) => b - a)[0];
      if (below !== undefined) {
        await this.#send(
          'move AWSCURRENT',
          new UpdateSecretVersionStageCommand({
            SecretId: state.name,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: versionToken(state.generation, below),
            RemoveFromVersionId: id,
          }),
          signal,
        );
      }
    }
    if (stages.includes('AWSPREVIOUS') || (stages.includes('AWSCURRENT') && state.raw.VersionIdsToStages)) {
      // Moving AWSCURRENT made the deleted version AWSPREVIOUS: take that label off too.
      await this.#send(
        'remove AWSPREVIOUS',
        new UpdateSecretVersionStageCommand({
          SecretId: state.name,
          VersionStage: 'AWSPREVIOUS',
          RemoveFromVersionId: id,
        }),
        signal,
      ).catch(() => undefined);
    }
    return true;
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    const state = await this.#state(path, options?.signal);
    if (!state || state.deleted) return false;
    await this.#send(
      'delete',
      new DeleteSecretCommand(
        this.deletePolicy === 'force'
          ? { SecretId: state.name, ForceDeleteWithoutRecovery: true }
          : { SecretId: state.name, RecoveryWindowInDays: this.#options.recoveryWindowDays ?? 7 },
      ),
      options?.signal,
    );
    return true;
  }

  async check(options?: CallOptions): Promise<void> {
    await this.#send('check', new ListSecretsCommand({ MaxResults: 1 }), options?.signal);
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}

/** `SGW_BACKEND=aws`: the standard AWS variables plus SGW_AWS_* (see AWS_ENV). */
export function fromEnv(env: Record<string, string | undefined>): AwsAdapter {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('SGW_BACKEND=aws needs AWS_REGION (or AWS_DEFAULT_REGION)');
  const policy = env.SGW_AWS_DELETE_POLICY || 'recovery-window';
  if (policy !== 'recovery-window' && policy !== 'force')
    throw new Error('SGW_AWS_DELETE_POLICY must be recovery-window or force');
  const days = env.SGW_AWS_RECOVERY_WINDOW_DAYS ? Number(env.SGW_AWS_RECOVERY_WINDOW_DAYS) : 7;
  if (!Number.isInteger(days) || days < 7 || days > 30)
    throw new Error('SGW_AWS_RECOVERY_WINDOW_DAYS must be a whole number from 7 to 30');
  const tags = Object.fromEntries(
    (env.SGW_AWS_TAGS ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=', 2) as [string, string]),
  );
  return new AwsAdapter({
    region,
    endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined,
    deletePolicy: policy,
    recoveryWindowDays: days,
    kmsKeyId: env.SGW_AWS_KMS_KEY_ID || undefined,
    tags,
  });
}
