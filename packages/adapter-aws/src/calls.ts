import {
  DescribeSecretCommand,
  type DescribeSecretResponse,
  GetSecretValueCommand,
  type GetSecretValueResponse,
  ListSecretVersionIdsCommand,
  type ListSecretVersionIdsResponse,
  PutSecretValueCommand,
  type SecretsManagerClient,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';
import {
  sleep as abortableSleep,
  BackendUnavailableError,
  type CallOptions,
  operationBudget,
  raceAbort,
} from '@secret-gateway/core';
import { awsErrorName, isMarkedForDeletion, isNotFound, mapAwsError } from './errors.ts';
import { versionQuotaError } from './quota.ts';
import { parseToken, versionToken } from './versions.ts';

/**
 * The AWS calls the adapter makes, each bounded by the operation's signal and each failure turned
 * into core's typed errors. Definite "not there" answers come back as `undefined`.
 */
export class AwsCalls {
  constructor(
    readonly client: SecretsManagerClient,
    readonly timeoutMs: number,
    readonly now: () => number = Date.now,
  ) {}

  /** One operation's signal: the gateway's deadline, and the adapter's own for direct callers. */
  signal(options: CallOptions | undefined): AbortSignal {
    return operationBudget(this.timeoutMs, options?.signal).signal;
  }

  /** One AWS call. It settles when the signal fires, even while the SDK waits to retry. */
  async send<T>(what: string, command: unknown, signal: AbortSignal): Promise<T> {
    const timedOut = () => new BackendUnavailableError('timeout', `AWS ${what}: the deadline passed`);
    if (signal.aborted) throw timedOut();
    // biome-ignore lint/suspicious/noExplicitAny: every command of the client goes through here
    const call = this.client.send(command as any, { abortSignal: signal });
    try {
      return (await raceAbort(call, signal, timedOut)) as T;
    } catch (error) {
      throw mapAwsError(error, what);
    }
  }

  async describe(name: string, signal: AbortSignal): Promise<DescribeSecretResponse | undefined> {
    try {
      return await this.send<DescribeSecretResponse>(
        'describe',
        new DescribeSecretCommand({ SecretId: name }),
        signal,
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** GetSecretValue of a version id (or AWSCURRENT); undefined when AWS definitely has none. */
  async get(
    name: string,
    versionId: string | undefined,
    signal: AbortSignal,
  ): Promise<GetSecretValueResponse | undefined> {
    try {
      return await this.send<GetSecretValueResponse>(
        'get',
        new GetSecretValueCommand({ SecretId: name, ...(versionId ? { VersionId: versionId } : {}) }),
        signal,
      );
    } catch (error) {
      if (isNotFound(error) || isMarkedForDeletion(error)) return undefined;
      throw error;
    }
  }

  /** PutSecretValue as version `version` of `generation` (it becomes AWSCURRENT). */
  async put(name: string, generation: string, version: number, value: string, signal: AbortSignal) {
    const put = new PutSecretValueCommand({
      SecretId: name,
      SecretString: value,
      ClientRequestToken: versionToken(generation, version),
    });
    try {
      await this.send('put', put, signal);
    } catch (error) {
      if (awsErrorName(error) === 'LimitExceededException')
        throw await versionQuotaError(this, name, error, signal);
      throw error;
    }
    return version;
  }

  /** Every version AWS lists for `name`, labelled or not, across pages. */
  async listVersions(name: string, signal: AbortSignal): Promise<SecretVersionsListEntry[]> {
    const versions: SecretVersionsListEntry[] = [];
    let NextToken: string | undefined;
    do {
      const page: ListSecretVersionIdsResponse = await this.send(
        'list versions',
        new ListSecretVersionIdsCommand({
          SecretId: name,
          IncludeDeprecated: true,
          MaxResults: 100,
          NextToken,
        }),
        signal,
      );
      versions.push(...(page.Versions ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return versions;
  }

  /** Highest version number of `generation` that AWS lists, labelled or not (0 when none). */
  async listedMax(name: string, generation: string, signal: AbortSignal): Promise<number> {
    let max = 0;
    for (const v of await this.listVersions(name, signal)) {
      const parsed = parseToken(v.VersionId);
      if (parsed?.generation === generation && parsed.version > max) max = parsed.version;
    }
    return max;
  }
}

/** A wait that ends early, as a timeout, when the operation's signal fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return abortableSleep(
    ms,
    signal,
    () => new BackendUnavailableError('timeout', 'AWS: the deadline passed while waiting to retry'),
  );
}
