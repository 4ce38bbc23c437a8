export type DeletePolicy = 'recovery-window' | 'force';

export interface AwsAdapterOptions {
  /** AWS region (AWS_REGION / AWS_DEFAULT_REGION). */
  region: string;
  /** Endpoint override, e.g. a VPC endpoint or the emulator (AWS_ENDPOINT_URL_SECRETS_MANAGER). */
  endpoint?: string;
  /** Explicit credentials; otherwise the SDK's standard chain (env, profile, SSO, IMDS, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * What delete-all does (SGW_AWS_DELETE_POLICY). `recovery-window` (default): DeleteSecret with a
   * recovery window, so an operator can still restore by hand; a later write restores the secret and
   * starts a new generation. `force`: ForceDeleteWithoutRecovery; a later write waits (within the
   * deadline) until AWS has finished deleting the name, then creates it again.
   */
  deletePolicy?: DeletePolicy;
  /** SGW_AWS_RECOVERY_WINDOW_DAYS, 7-30 (default 7). */
  recoveryWindowDays?: number;
  /** KMS key for new secrets (SGW_AWS_KMS_KEY_ID); default: the account's aws/secretsmanager key. */
  kmsKeyId?: string;
  /** Extra tags on new secrets (SGW_AWS_TAGS=team=platform,env=prod). */
  tags?: Record<string, string>;
  /** SDK attempts per call (default 2); every call is also cut off at the gateway's deadline. */
  maxAttempts?: number;
}

export const AWS_ENV = [
  { name: 'AWS_REGION', required: true, description: 'Region', example: 'eu-west-1' },
  {
    name: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    required: false,
    description: 'Endpoint override',
    example: 'http://127.0.0.1:4566',
  },
  {
    name: 'AWS_ACCESS_KEY_ID / AWS_PROFILE / ...',
    required: false,
    description: 'Standard AWS credential chain',
    example: '',
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
    description: 'Tags for new secrets',
    example: 'team=platform,env=prod',
  },
] as const;
