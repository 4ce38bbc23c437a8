import {
  CreateSecretCommand,
  DeleteSecretCommand,
  type GetSecretValueResponse,
  PutSecretValueCommand,
  type SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  ADAPTER_CONTRACT_VERSION,
  type AdapterCapabilities,
  type BackendAdapter,
  BackendError,
  type CallOptions,
  type GatewaySettings,
  type StoredSecret,
  VersionConflictError,
} from '@secret-gateway/core';
import { AwsCalls, sleep } from './calls.ts';
import { createAwsClient } from './client.ts';
import {
  type AwsAdapterOptions,
  DEFAULTS,
  type DeletePolicy,
  healthCheckName,
  optionsFromEnv,
} from './config.ts';
import { awsErrorName, isMarkedForDeletion, isNotFound } from './errors.ts';
import { isHashedName, secretName } from './names.ts';
import { RecentChanges } from './recent.ts';
import { restoreGeneration } from './revive.ts';
import {
  GENERATION_TAG,
  hasVersions,
  newGeneration,
  nextFromState,
  parseToken,
  type SecretState,
  secretState,
  tombstoneTags,
  versionToken,
} from './versions.ts';

export {
  AWS_ENV,
  type AwsAdapterOptions,
  type DeletePolicy,
  describeOptions,
  optionsFromEnv,
} from './config.ts';
export { pathOf, secretName } from './names.ts';
export { parseToken, versionToken } from './versions.ts';

/** A fixed idempotency token for the write probe (AWS wants 32-64 characters). */
const HEALTH_TOKEN = 'sgw-health-check-0000000000000000';

/**
 * AWS Secrets Manager. Integer versions live in deterministic ClientRequestTokens (versions.ts);
 * latest is AWSCURRENT, moved down when the newest version is deleted; deleted versions are
 * tombstoned in tags; delete-all follows the configured policy and a later write starts at 1 at once.
 */
export class AwsAdapter implements BackendAdapter {
  readonly contractVersion = ADAPTER_CONTRACT_VERSION;
  readonly name = 'aws';
  readonly capabilities: AdapterCapabilities = {
    maxValueBytes: 65_536,
    maxPathBytes: 1024,
    // Racing writers collide on the version's token and retry, across replicas too; but two replicas
    // writing the same value as the same number both succeed with one version (docs/backends/aws.md).
    atomicVersionsAcrossReplicas: false,
    list: false,
  };
  readonly deletePolicy: DeletePolicy;
  readonly #aws: AwsCalls;
  readonly #options: AwsAdapterOptions;
  readonly #recent: RecentChanges;

  constructor(options: AwsAdapterOptions, client?: SecretsManagerClient) {
    this.#options = options;
    this.deletePolicy = options.deletePolicy ?? DEFAULTS.deletePolicy;
    this.#aws = new AwsCalls(
      client ?? createAwsClient(options),
      options.timeoutMs ?? DEFAULTS.timeoutMs,
      options.now,
    );
    this.#recent = new RecentChanges(options.consistencyWindowMs ?? DEFAULTS.consistencyWindowMs);
  }

  /** DescribeSecret, with this process's recent changes merged in (recent.ts). */
  async #describe(name: string, signal: AbortSignal) {
    const raw = await this.#aws.describe(name, signal);
    const state = this.#recent.merge(name, raw && secretState(raw), raw?.DeletedDate?.getTime());
    return { raw, state };
  }

  /**
   * A conflict SecretService retries after about `windowMs / 8` (growing per attempt), not 0-5 ms:
   * the winner's write takes that long to show in the DescribeSecret the retry reads.
   */
  #conflict(message: string, cause?: unknown): VersionConflictError {
    return new VersionConflictError(message, {
      cause,
      retryAfterMs: Math.max(5, Math.min(250, this.#recent.windowMs / 8)),
    });
  }

  async write(path: string, value: string, options?: CallOptions): Promise<number> {
    const aws = this.#aws;
    const signal = aws.signal(options);
    const name = secretName(path);
    const { raw, state } = await this.#describe(name, signal);
    if (!state) return this.#create(path, name, value, signal);
    if (state.deleted) {
      const revived = await restoreGeneration(aws, name, state, raw?.DeletedDate, value, signal);
      if (!revived) return this.#create(path, name, value, signal, false);
      this.#recent.exists(name, revived.generation, revived.version);
      return revived.version;
    }
    if (!state.generation) {
      // A secret the gateway did not make: adopt it with a generation of its own, from version 1.
      const generation = newGeneration();
      const tag = new TagResourceCommand({
        SecretId: name,
        Tags: [{ Key: GENERATION_TAG, Value: generation }],
      });
      await aws.send('tag', tag, signal);
      return this.#put(name, generation, 1, value, signal);
    }
    const next = nextFromState(state);
    try {
      return await this.#put(name, state.generation, next, value, signal);
    } catch (error) {
      if (isMarkedForDeletion(error))
        throw this.#conflict('AWS put: the secret was deleted meanwhile (or the describe was stale)', error);
      if (awsErrorName(error) !== 'ResourceExistsException') throw error;
      // Another writer took `next` (SecretService retries us), unless AWSCURRENT was moved back by
      // hand: then the full list has the highest number, and the one above it is free.
      const fresh = (await this.#describe(name, signal)).state;
      if (!fresh || nextFromState(fresh) > next)
        throw this.#conflict('AWS put: another writer took the version', error);
      const listed = await aws.listedMax(name, state.generation, signal);
      try {
        return await this.#put(name, state.generation, Math.max(listed, next) + 1, value, signal);
      } catch (again) {
        if (awsErrorName(again) !== 'ResourceExistsException') throw again;
        throw this.#conflict(`AWS put: another writer took a version above ${listed}`, again);
      }
    }
  }

  /** PutSecretValue of a new version, remembered for the reads and writes that follow. */
  async #put(name: string, generation: string, next: number, value: string, signal: AbortSignal) {
    const version = this.#recent.claim(name, generation, next);
    try {
      await this.#aws.put(name, generation, version, value, signal);
    } catch (error) {
      // Taken by another writer: it exists, whatever a stale DescribeSecret says.
      if (awsErrorName(error) === 'ResourceExistsException') this.#recent.exists(name, generation, version);
      throw error;
    } finally {
      this.#recent.release(name, generation, version);
    }
    this.#recent.exists(name, generation, version);
    return version;
  }

  async #create(path: string, name: string, value: string, signal: AbortSignal, restorable = true) {
    const aws = this.#aws;
    const generation = newGeneration();
    const create = new CreateSecretCommand({
      Name: name,
      SecretString: value,
      ClientRequestToken: versionToken(generation, 1),
      ...(isHashedName(name) ? { Description: path } : {}),
      ...(this.#options.kmsKeyId ? { KmsKeyId: this.#options.kmsKeyId } : {}),
      Tags: [
        { Key: GENERATION_TAG, Value: generation },
        ...Object.entries(this.#options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      ],
    });
    for (let attempt = 0; ; attempt++) {
      try {
        await aws.send('create', create, signal);
        this.#recent.exists(name, generation, 1);
        return 1;
      } catch (error) {
        if (awsErrorName(error) === 'ResourceExistsException') {
          // Our own create, answered late and retried by the SDK, or another writer's.
          const raw = await aws.describe(name, signal);
          if (raw && secretState(raw).generation === generation) {
            this.#recent.exists(name, generation, 1);
            return 1;
          }
          throw this.#conflict('AWS create: another writer created this secret first');
        }
        if (!isMarkedForDeletion(error)) throw error;
      }
      // The name is scheduled for deletion. Inside a recovery window it can be restored; after a
      // force delete AWS is still removing it, asynchronously: wait and retry within the deadline.
      // DescribeSecret may already answer "not found" while CreateSecret still refuses the name, so
      // that answer waits too (the sleep ends with the operation's deadline or abort).
      const { raw, state } = await this.#describe(name, signal);
      if (state) {
        if (!state.deleted) throw this.#conflict('AWS create: another writer re-created this secret first');
        if (restorable) {
          const revived = await restoreGeneration(aws, name, state, raw?.DeletedDate, value, signal);
          if (revived !== undefined) {
            this.#recent.exists(name, revived.generation, revived.version);
            return revived.version;
          }
          restorable = false;
        }
      }
      await sleep(Math.min(1000, 25 * 2 ** attempt), signal);
    }
  }

  async read(path: string, version: number | undefined, options?: CallOptions): Promise<StoredSecret | null> {
    const aws = this.#aws;
    const signal = aws.signal(options);
    const name = secretName(path);
    if (version !== undefined) {
      const { state } = await this.#describe(name, signal);
      if (!state || state.deleted || !state.generation || state.tombstones.has(version)) return null;
      return storedOf(await aws.get(name, versionToken(state.generation, version), signal), version);
    }
    // Latest: the metadata and AWSCURRENT's value in parallel (one round trip), checked together.
    const [{ state }, current] = await Promise.all([
      this.#describe(name, signal),
      aws.get(name, undefined, signal),
    ]);
    if (!state || state.deleted || !state.generation) return null;
    const parsed = parseToken(current?.VersionId);
    if (
      parsed?.generation === state.generation &&
      !state.tombstones.has(parsed.version) &&
      parsed.version >= (state.current ?? 0)
    )
      return storedOf(current, parsed.version);
    return this.#latestFrom(name, state, signal);
  }

  /**
   * AWSCURRENT is on a tombstoned version (or an old generation's, or below what this process wrote:
   * AWS's answer is stale): every version was deleted, or a deleteVersion stopped between its
   * tombstone and its label move. The highest live one answers.
   */
  async #latestFrom(name: string, state: SecretState, signal: AbortSignal): Promise<StoredSecret | null> {
    for (let n = state.current ?? 0; n >= 1; n--) {
      if (state.tombstones.has(n)) continue;
      const found = await this.#aws.get(name, versionToken(state.generation, n), signal);
      if (found) return storedOf(found, n);
    }
    return null;
  }

  async deleteVersion(path: string, version: number, options?: CallOptions): Promise<boolean> {
    const aws = this.#aws;
    const signal = aws.signal(options);
    const name = secretName(path);
    const { state } = await this.#describe(name, signal);
    if (!state || state.deleted || !state.generation || state.tombstones.has(version)) return false;
    const id = versionToken(state.generation, version);
    const found = await aws.get(name, id, signal);
    if (!found) return false;
    // Tombstone first: from here on no reader is served this version, whatever happens next.
    const tombstones = new Set([...state.tombstones, version]);
    const tags = tombstoneTags(state.generation, tombstones);
    await aws.send('tombstone', new TagResourceCommand({ SecretId: name, Tags: tags }), signal);
    this.#recent.tombstoned(name, state.generation, tombstones, nextFromState(state) - 1);
    // The version's own labels, from the read of the version: a DescribeSecret may be stale.
    const labels = new Set(found.VersionStages ?? state.stagesOf(id));
    // AWSCURRENT moves down, and AWS then hands AWSPREVIOUS to this version. With no live version
    // below, AWSCURRENT stays (AWS cannot remove it) and the tombstone alone hides the version.
    if (
      labels.delete('AWSCURRENT') &&
      (await this.#moveCurrentBelow(name, state.generation, version, tombstones, signal))
    )
      labels.add('AWSPREVIOUS');
    for (const label of labels) {
      const remove = new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: label,
        RemoveFromVersionId: id,
      });
      await aws.send('unlabel', remove, signal);
    }
    return true;
  }

  /** Moves AWSCURRENT from `version` to the highest live one below; false when there is none. */
  async #moveCurrentBelow(
    name: string,
    generation: string,
    version: number,
    tombstones: Set<number>,
    signal: AbortSignal,
  ): Promise<boolean> {
    for (let n = version - 1; n >= 1; n--) {
      if (tombstones.has(n)) continue;
      const move = new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: versionToken(generation, n),
        RemoveFromVersionId: versionToken(generation, version),
      });
      try {
        await this.#aws.send('move AWSCURRENT', move, signal);
        return true;
      } catch (error) {
        if (!isNotFound(error)) throw error; // a version AWS has dropped (100+ old ones): the next down
      }
    }
    return false;
  }

  async deleteSecret(path: string, options?: CallOptions): Promise<boolean> {
    const aws = this.#aws;
    const signal = aws.signal(options);
    const name = secretName(path);
    const { state } = await this.#describe(name, signal);
    // Secrets the gateway did not make are never deleted through it.
    if (!state || state.deleted || !state.generation || !hasVersions(state)) return false;
    // The generation a restore continues in: known only once its tag is on the secret.
    let generation = '';
    try {
      if (this.deletePolicy === 'force') {
        // Succeeds on a secret already gone, too (a racing delete): AWS answers no "not found" here.
        const del = new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true });
        await aws.send('delete', del, signal);
      } else {
        // A new generation first: whoever restores the secret later sees none of the old versions.
        const fresh = newGeneration();
        const tag = new TagResourceCommand({
          SecretId: name,
          Tags: [{ Key: GENERATION_TAG, Value: fresh }],
        });
        await aws.send('tag', tag, signal);
        generation = fresh;
        const days = this.#options.recoveryWindowDays ?? DEFAULTS.recoveryWindowDays;
        await aws.send(
          'delete',
          new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: days }),
          signal,
        );
      }
    } catch (error) {
      // Deleted meanwhile, by a racing delete or by our own call answered late and retried.
      if (!isMarkedForDeletion(error)) throw error;
    }
    this.#recent.deletedAll(name, generation);
    return true;
  }

  /**
   * Probes a name under the root that no gateway path maps to. AWS evaluates IAM before it looks the
   * secret up, so "not found" from DescribeSecret, GetSecretValue and PutSecretValue proves that the
   * endpoint answers, the credentials are accepted and the policy allows reading and writing there;
   * AccessDeniedException names the action that is missing. The write probe runs only while the name
   * does not exist, so it never stores anything.
   */
  async check(options?: CallOptions): Promise<void> {
    const aws = this.#aws;
    const signal = aws.signal(options);
    const name = this.#options.healthCheckName ?? healthCheckName(DEFAULTS.root);
    const probe = async (action: string, run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        if (isNotFound(error)) return;
        if (
          (error as { reason?: unknown }).reason !== 'denied' ||
          awsErrorName(error) !== 'AccessDeniedException'
        )
          throw error;
        throw new BackendError(
          'denied',
          `AWS denied secretsmanager:${action} on ${name}: check the IAM policy`,
          {
            cause: error,
            detail: (error as BackendError).detail,
          },
        );
      }
    };
    let exists = false;
    await probe('DescribeSecret', async () => {
      exists = (await aws.describe(name, signal)) !== undefined;
    });
    if (exists) return;
    await probe('GetSecretValue', () => aws.get(name, undefined, signal));
    const put = new PutSecretValueCommand({
      SecretId: name,
      SecretString: '',
      ClientRequestToken: HEALTH_TOKEN,
    });
    await probe('PutSecretValue', () => aws.send('put', put, signal));
  }

  async close(): Promise<void> {
    this.#aws.client.destroy();
  }
}

function storedOf(answer: GetSecretValueResponse | undefined, version: number): StoredSecret | null {
  return typeof answer?.SecretString === 'string' ? { value: answer.SecretString, version } : null;
}

/**
 * `SGW_BACKEND=aws`: the standard AWS variables plus SGW_AWS_* (AWS_ENV lists them); the root and
 * the deadline from the gateway's settings.
 */
export function fromEnv(
  env: Record<string, string | undefined>,
  settings?: Partial<GatewaySettings>,
): AwsAdapter {
  return new AwsAdapter(optionsFromEnv(env, settings));
}
