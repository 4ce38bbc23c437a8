import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startHttpEmulator } from '../http.ts';
import type { CliFlags, EmulatorHandle } from '../types.ts';
import { AwsError, type AwsSecret, AwsState, type AwsVersion } from './state.ts';

export { AwsState } from './state.ts';

export interface AwsEmulatorOptions {
  port?: number;
  host?: string;
  region?: string;
  /** Recovery window when DeleteSecret gives none (AWS: 30). */
  recoveryWindowDays?: number;
  /** How long a force-deleted name stays unusable (AWS deletes asynchronously; default 200 ms). */
  forceDeleteDelayMs?: number;
  /** Age after which unlabeled versions beyond 100 are dropped (AWS: 24 h, the default). */
  deprecatedVersionAgeMs?: number;
  /** A force-deleted secret is not found while its name is still taken (AwsStateOptions). */
  hideForceDeleted?: boolean;
  /** Refuse the 101st version created within 24 h (LimitExceededException), as AWS does (AwsStateOptions). */
  versionQuota?: boolean;
  /** Eventually consistent reads, this many ms stale (AwsStateOptions); 0 = off. */
  staleReadMs?: number;
  /** The clock of the secrets' state (versions' ages, deletion dates); default Date.now. */
  now?: () => number;
}

export interface AwsEmulator extends EmulatorHandle {
  region: string;
  /** Backdoor for tests. */
  state: AwsState;
}

const seconds = (ms: number) => ms / 1000;
const versionEntry = (v: AwsVersion) => ({
  VersionId: v.id,
  VersionStages: [...v.stages],
  CreatedDate: seconds(v.created),
});

type Input = Record<string, unknown>;
type Op = (state: AwsState, input: Input) => unknown;

const OPS: Record<string, Op> = {
  CreateSecret: (state, input) => {
    const { secret, versionId } = state.create(input);
    return { ARN: secret.arn, Name: secret.name, ...(versionId ? { VersionId: versionId } : {}) };
  },
  PutSecretValue: (state, input) => {
    const secret = state.find(input.SecretId);
    if (typeof input.SecretString !== 'string')
      throw new AwsError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
    const version = state.put(
      secret,
      AwsState.checkToken(input.ClientRequestToken),
      input.SecretString,
      input.VersionStages as string[] | undefined,
    );
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  },
  GetSecretValue: (state, input) => {
    // By staging label the answer depends on where the label was: eventually consistent, like
    // DescribeSecret. A version id names one immutable version.
    const byId = typeof input.VersionId === 'string';
    const secret = byId ? state.find(input.SecretId) : state.findStale(input.SecretId);
    let version: AwsVersion | undefined;
    if (typeof input.VersionId === 'string') {
      version = secret.versions.get(input.VersionId);
      if (!version || (typeof input.VersionStage === 'string' && !version.stages.has(input.VersionStage))) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${input.VersionId}`,
        );
      }
    } else {
      const stage = typeof input.VersionStage === 'string' ? input.VersionStage : 'AWSCURRENT';
      version = [...secret.versions.values()].find((v) => v.stages.has(stage));
      if (!version)
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
        );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      SecretString: version.value,
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.created),
    };
  },
  DescribeSecret: (state, input) => {
    const s = state.findStale(input.SecretId, true);
    return describe(s);
  },
  ListSecretVersionIds: (state, input) => {
    const secret = state.findStale(input.SecretId, true);
    const max = typeof input.MaxResults === 'number' ? input.MaxResults : 100;
    if (max < 1 || max > 100)
      throw new AwsError('InvalidParameterException', 'MaxResults must be between 1 and 100');
    const all = [...secret.versions.values()].filter(
      (v) => input.IncludeDeprecated === true || v.stages.size > 0,
    );
    const start =
      typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString()) : 0;
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    return {
      ARN: secret.arn,
      Name: secret.name,
      Versions: page.map(versionEntry),
      ...(next ? { NextToken: next } : {}),
    };
  },
  UpdateSecretVersionStage: (state, input) => {
    const secret = state.find(input.SecretId);
    if (typeof input.VersionStage !== 'string')
      throw new AwsError('InvalidParameterException', 'VersionStage is required');
    state.moveStage(
      secret,
      input.VersionStage,
      input.MoveToVersionId as string | undefined,
      input.RemoveFromVersionId as string | undefined,
    );
    return { ARN: secret.arn, Name: secret.name };
  },
  DeleteSecret: (state, input) => {
    // DeleteSecretCommand.d.ts, ForceDeleteWithoutRecovery: "If you use this parameter and the secret
    // doesn't exist, then the operation doesn't return the error ResourceNotFoundException in order
    // to correctly handle retries."
    AwsState.checkDeleteOptions(input.RecoveryWindowInDays, input.ForceDeleteWithoutRecovery);
    if (input.ForceDeleteWithoutRecovery === true && !state.exists(input.SecretId)) {
      return { Name: String(input.SecretId), DeletionDate: seconds(state.now()) };
    }
    const secret = state.find(input.SecretId, input.ForceDeleteWithoutRecovery === true);
    const deletion = state.delete(secret, input.RecoveryWindowInDays, input.ForceDeleteWithoutRecovery);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(deletion) };
  },
  RestoreSecret: (state, input) => {
    const secret = state.find(input.SecretId, true);
    state.restore(secret);
    return { ARN: secret.arn, Name: secret.name };
  },
  TagResource: (state, input) => {
    state.tag(state.find(input.SecretId), input.Tags);
    return {};
  },
  UntagResource: (state, input) => {
    state.untag(state.find(input.SecretId), input.TagKeys);
    return {};
  },
  ListSecrets: (state, input) => {
    const all = [...state.secrets.values()].filter(
      (s) => s.deletedDate === undefined || input.IncludePlannedDeletion === true,
    );
    const max = typeof input.MaxResults === 'number' ? input.MaxResults : 100;
    const start =
      typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString()) : 0;
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    return { SecretList: all.slice(start, start + max).map(describe), ...(next ? { NextToken: next } : {}) };
  },
};

function describe(s: AwsSecret) {
  return {
    ARN: s.arn,
    Name: s.name,
    ...(s.description !== undefined ? { Description: s.description } : {}),
    ...(s.kmsKeyId !== undefined ? { KmsKeyId: s.kmsKeyId } : {}),
    Tags: [...s.tags].map(([Key, Value]) => ({ Key, Value })),
    VersionIdsToStages: Object.fromEntries(
      [...s.versions.values()].filter((v) => v.stages.size > 0).map((v) => [v.id, [...v.stages]]),
    ),
    CreatedDate: seconds(s.created),
    LastChangedDate: seconds(s.changed),
    ...(s.deletedDate !== undefined ? { DeletedDate: seconds(s.deletedDate) } : {}),
  };
}

const awsError = (res: ServerResponse, type: string, message: string, status = 400) =>
  sendJson(res, status, { __type: type, message }, { 'x-amzn-ErrorType': type });

/** AWS Secrets Manager over the JSON 1.1 protocol: `POST /` with `X-Amz-Target: secretsmanager.<Op>`. */
export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const region = options.region ?? 'us-east-1';
  const state = new AwsState({
    region,
    account: '123456789012',
    forceDeleteDelayMs: options.forceDeleteDelayMs ?? 200,
    defaultRecoveryWindowDays: options.recoveryWindowDays ?? 30,
    deprecatedVersionAgeMs: options.deprecatedVersionAgeMs ?? 86_400_000,
    hideForceDeleted: options.hideForceDeleted ?? false,
    versionQuota: options.versionQuota ?? false,
    staleReadMs: options.staleReadMs ?? 0,
    now: options.now,
  });
  const operationOf = (req: IncomingMessage) =>
    String(req.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
  const handler = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    if (req.method !== 'POST') return awsError(res, 'UnknownOperationException', 'Only POST is supported');
    if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256')) {
      return awsError(res, 'MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
    }
    // AWS answers a key id it never issued with 400 UnrecognizedClientException ("The security token
    // included in the request is invalid."), before looking at the operation.
    const keyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization)?.[1];
    if (state.accessKeyIds.size > 0 && !state.accessKeyIds.has(keyId ?? '')) {
      return awsError(
        res,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    }
    const name = operationOf(req);
    const op = OPS[name];
    if (!op) return awsError(res, 'UnknownOperationException', `Unknown operation ${name}`);
    state.requests.set(name, (state.requests.get(name) ?? 0) + 1);
    if (state.denied.has(name)) {
      return awsError(
        res,
        'AccessDeniedException',
        `User: arn:aws:iam::123456789012:user/sgw is not authorized to perform: secretsmanager:${name} because no identity-based policy allows the secretsmanager:${name} action`,
      );
    }
    let input: Input;
    try {
      input = raw.length ? (JSON.parse(raw.toString('utf8')) as Input) : {};
    } catch {
      return awsError(res, 'SerializationException', 'Malformed JSON');
    }
    try {
      sendJson(res, 200, op(state, input));
    } catch (error) {
      if (error instanceof AwsError) return awsError(res, error.type, error.message, error.status);
      throw error;
    }
  };
  const server = await startHttpEmulator(handler, {
    port: options.port,
    host: options.host,
    operationOf,
    renderThrottle: (res) => awsError(res, 'ThrottlingException', 'Rate exceeded'),
    renderServerError: (res, status) =>
      awsError(res, 'InternalServiceError', 'An error occurred on the server side.', status),
  });
  return { url: server.url, faults: server.faults, region, state, info: { region }, stop: server.stop };
}

export async function startFromFlags(flags: CliFlags): Promise<AwsEmulator> {
  const num = (name: string) => {
    if (flags[name] === undefined) return undefined;
    const n = Number(flags[name]);
    if (typeof flags[name] !== 'string' || !Number.isFinite(n) || n < 0)
      throw new Error(`--${name} needs a number`);
    return n;
  };
  return startAwsEmulator({
    port: num('port'),
    host: typeof flags.host === 'string' ? flags.host : undefined,
    region: typeof flags.region === 'string' ? flags.region : undefined,
    recoveryWindowDays: num('recovery-window-days'),
    forceDeleteDelayMs: num('force-delete-delay-ms'),
    deprecatedVersionAgeMs: num('deprecated-version-age-ms'),
    versionQuota: flags['version-quota'] === true,
    staleReadMs: num('stale-read-ms'),
  });
}
