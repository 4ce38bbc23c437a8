import {
  DEFAULT_BACKEND_TIMEOUT_MS,
  DEFAULT_ROOT,
  envInteger,
  type GatewaySettings,
} from '@secret-gateway/core';

/**
 * Settings of the AWS adapter: the options object, its defaults, and `optionsFromEnv`, which reads
 * the backend's usual variables (AWS_*) plus SGW_AWS_*, and takes the root and the deadline from the
 * gateway's settings. docs/backends/aws.md lists the same.
 */
export type DeletePolicy = 'recovery-window' | 'force';

export interface AwsAdapterOptions {
  /** AWS region (AWS_REGION / AWS_DEFAULT_REGION). */
  region: string;
  /** Endpoint override, e.g. a VPC endpoint or the emulator (AWS_ENDPOINT_URL_SECRETS_MANAGER). */
  endpoint?: string;
  /** Explicit credentials; otherwise the SDK's standard chain (env, SSO, profile, web identity, IMDS). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * What delete-all does (SGW_AWS_DELETE_POLICY). `recovery-window` (default): DeleteSecret with a
   * recovery window, so a deletion stays reversible by an operator; a later write restores the secret
   * into a new generation at once. `force`: ForceDeleteWithoutRecovery, so AWS keeps nothing; a later
   * write waits, inside the deadline, until AWS has finished deleting the name.
   */
  deletePolicy?: DeletePolicy;
  /** SGW_AWS_RECOVERY_WINDOW_DAYS, 7-30 (default 7). */
  recoveryWindowDays?: number;
  /** KMS key for new secrets (SGW_AWS_KMS_KEY_ID); default: the account's aws/secretsmanager key. */
  kmsKeyId?: string;
  /** Extra tags on new secrets (SGW_AWS_TAGS=team=platform,env=prod). */
  tags?: Record<string, string>;
  /**
   * Budget for one adapter operation in ms, shared by its AWS calls and the SDK's retries
   * (the gateway's `backendTimeoutMs`; default 5000).
   */
  timeoutMs?: number;
  /** Attempts per AWS call for transient failures (SGW_AWS_MAX_ATTEMPTS, default 3); throttling is never retried. */
  maxAttempts?: number;
  /**
   * How long, in ms, this process merges its own recent changes into what DescribeSecret answers
   * (AWS is eventually consistent: recent.ts). Default 2000; 0 turns it off.
   */
  consistencyWindowMs?: number;
  /** The clock the version quota's Retry-After is reckoned by (tests); default Date.now. */
  now?: () => number;
  /** Secret name `check()` describes; its absence is the healthy answer (default `tfy-secret/@sgw-health`). */
  healthCheckName?: string;
}

export const DEFAULTS = {
  deletePolicy: 'recovery-window' as DeletePolicy,
  recoveryWindowDays: 7,
  timeoutMs: DEFAULT_BACKEND_TIMEOUT_MS,
  maxAttempts: 3,
  consistencyWindowMs: 2000,
  root: DEFAULT_ROOT,
};

/** `<root>/@sgw-health`: under the IAM prefix, and a name no gateway path maps to (`@`). */
export const healthCheckName = (root: string) => `${root}/@sgw-health`;

/** Every setting `fromEnv` reads. */
export const AWS_ENV = [
  {
    name: 'AWS_REGION',
    required: true,
    description: 'Region (AWS_DEFAULT_REGION also works)',
    example: 'eu-west-1',
  },
  {
    name: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    required: false,
    description: 'Endpoint override (AWS_ENDPOINT_URL also works): a VPC endpoint or the emulator',
    example: 'http://127.0.0.1:4566',
  },
  {
    name: 'AWS_ACCESS_KEY_ID',
    required: false,
    description:
      'With AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN): static credentials; without them the SDK chain (AWS_PROFILE, SSO, web identity, ECS, IMDS)',
    example: 'AKIA...',
  },
  {
    name: 'SGW_AWS_DELETE_POLICY',
    required: false,
    description: 'recovery-window (default) or force',
    example: 'force',
  },
  { name: 'SGW_AWS_RECOVERY_WINDOW_DAYS', required: false, description: '7-30 (default 7)', example: '7' },
  {
    name: 'SGW_AWS_KMS_KEY_ID',
    required: false,
    description: 'KMS key for new secrets',
    example: 'alias/secret-gateway',
  },
  {
    name: 'SGW_AWS_TAGS',
    required: false,
    description: 'Tags for new secrets, key=value pairs separated by commas',
    example: 'team=platform,env=prod',
  },
  {
    name: 'SGW_AWS_MAX_ATTEMPTS',
    required: false,
    description: 'Attempts per AWS call on transient errors, 1-10 (default 3)',
    example: '3',
  },
] as const;

// Tag text AWS documents as allowed everywhere; `sgw-` keys are the adapter's own.
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function parseTags(text: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    const key = at < 0 ? pair : pair.slice(0, at);
    const value = at < 0 ? '' : pair.slice(at + 1);
    const ok = key.length >= 1 && key.length <= 128 && value.length <= 255;
    if (!ok || !TAG_TEXT.test(key) || !TAG_TEXT.test(value) || /^(aws:|sgw-)/i.test(key)) {
      throw new Error(
        `SGW_AWS_TAGS: ${JSON.stringify(pair)} is not a usable tag (key=value; letters, digits, spaces and _.:/=+-@; keys starting aws: or sgw- are reserved)`,
      );
    }
    tags[key] = value;
  }
  return tags;
}

/**
 * Reads AWS_ENV without connecting; throws an Error naming the variable that is missing or
 * malformed. The root (for the health probe) and the deadline come from the gateway's settings.
 */
export function optionsFromEnv(
  env: Record<string, string | undefined>,
  settings: Partial<GatewaySettings> = {},
): AwsAdapterOptions {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('SGW_BACKEND=aws needs AWS_REGION (or AWS_DEFAULT_REGION)');
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined && !URL.canParse(endpoint))
    throw new Error(`AWS_ENDPOINT_URL_SECRETS_MANAGER must be a URL, not ${JSON.stringify(endpoint)}`);
  const policy = env.SGW_AWS_DELETE_POLICY || DEFAULTS.deletePolicy;
  if (policy !== 'recovery-window' && policy !== 'force')
    throw new Error(`SGW_AWS_DELETE_POLICY must be recovery-window or force, not ${JSON.stringify(policy)}`);
  // The SDK's env provider reads the same three variables; taking them from `env` keeps fromEnv pure.
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey))
    throw new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  return {
    region,
    endpoint,
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined }
        : undefined,
    deletePolicy: policy,
    recoveryWindowDays: envInteger(env, 'SGW_AWS_RECOVERY_WINDOW_DAYS', 7, 30) ?? DEFAULTS.recoveryWindowDays,
    kmsKeyId: env.SGW_AWS_KMS_KEY_ID || undefined,
    tags: parseTags(env.SGW_AWS_TAGS),
    timeoutMs: settings.backendTimeoutMs ?? DEFAULTS.timeoutMs,
    maxAttempts: envInteger(env, 'SGW_AWS_MAX_ATTEMPTS', 1, 10),
    healthCheckName: healthCheckName(settings.root ?? DEFAULTS.root),
  };
}

/** What `config check` prints: where and how the adapter will connect, never a credential. */
export function describeOptions(options: AwsAdapterOptions): string {
  return [
    `aws: region ${options.region}`,
    options.endpoint ? `endpoint ${new URL(options.endpoint).origin}` : 'the AWS endpoint',
    options.credentials ? 'static credentials (AWS_ACCESS_KEY_ID)' : "the SDK's credential chain",
    `delete policy ${options.deletePolicy ?? DEFAULTS.deletePolicy}`,
  ].join(', ');
}
