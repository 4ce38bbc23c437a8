import { DEFAULT_BACKEND_TIMEOUT_MS, envBoolean, type GatewaySettings } from '@secret-gateway/core';
import { describeReplication, type ReplicationSettings, replicationFromEnv } from './replication.ts';

export interface GcpAdapterOptions {
  /** Project holding the secrets (GOOGLE_CLOUD_PROJECT). */
  projectId: string;
  /** `host:port` of the API (SGW_GCP_ENDPOINT); default Google's (secretmanager.googleapis.com:443). */
  endpoint?: string;
  /** Plain-text gRPC, for the emulator only (SGW_GCP_INSECURE=true). */
  insecure?: boolean;
  /**
   * A fixed OAuth access token (SGW_GCP_ACCESS_TOKEN), development only: it is never refreshed, and
   * Google's expire after an hour. Default: ADC, which refreshes.
   */
  accessToken?: string;
  /** PEM file of the CA to trust for TLS to SGW_GCP_ENDPOINT (SGW_GCP_CA_FILE), e.g. the emulator's. */
  caFile?: string;
  /** Where new secrets are replicated (SGW_GCP_REPLICATION_LOCATIONS, SGW_GCP_KMS_KEY). */
  replication?: ReplicationSettings;
  /**
   * Budget for one adapter operation in ms, shared by its RPCs and the SDK's retries
   * (the gateway's `backendTimeoutMs`; default 5000).
   */
  timeoutMs?: number;
  /** Labels on new secrets (SGW_GCP_LABELS=team=platform,env=prod). */
  labels?: Record<string, string>;
  /** The gateway's path root (from its settings, default `tfy-secret`): check() probes a secret under it. */
  root?: string;
}

export const DEFAULT_TIMEOUT_MS = DEFAULT_BACKEND_TIMEOUT_MS;

/** Every setting `fromEnv` reads (docs/backends/gcp.md lists the same). */
export const GCP_ENV = [
  {
    name: 'GOOGLE_CLOUD_PROJECT',
    required: true,
    description: 'Project id (GCLOUD_PROJECT also works)',
    example: 'acme-prod',
  },
  {
    name: 'GOOGLE_APPLICATION_CREDENTIALS',
    required: false,
    description: 'Service account key file (or any other ADC source; read by google-auth-library)',
    example: '/var/run/sa.json',
  },
  {
    name: 'SGW_GCP_ENDPOINT',
    required: false,
    description: 'host:port of the API',
    example: '127.0.0.1:8085',
  },
  {
    name: 'SGW_GCP_INSECURE',
    required: false,
    description: 'Plain-text gRPC (emulator only)',
    example: 'true',
  },
  {
    name: 'SGW_GCP_ACCESS_TOKEN',
    required: false,
    description: 'Fixed access token instead of ADC: development only (never refreshed)',
    example: 'sgw-emulator-token',
  },
  {
    name: 'SGW_GCP_CA_FILE',
    required: false,
    description: 'PEM CA certificate to trust for TLS to SGW_GCP_ENDPOINT (e.g. the emulator)',
    example: '/etc/sgw/gcp-ca.pem',
  },
  {
    name: 'SGW_GCP_REPLICATION_LOCATIONS',
    required: false,
    description: 'User-managed replication regions for new secrets (default automatic, global)',
    example: 'europe-west1,europe-west4',
  },
  {
    name: 'SGW_GCP_KMS_KEY',
    required: false,
    description: 'Cloud KMS key(s) for new secrets: one per replication location, same order',
    example: 'projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k',
  },
  { name: 'SGW_GCP_LABELS', required: false, description: 'Labels on new secrets', example: 'team=platform' },
] as const;

const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/**
 * Reads GCP_ENV without connecting; throws an Error naming the variable that is missing or
 * malformed. The deadline comes from the gateway's settings.
 */
export function optionsFromEnv(
  env: Record<string, string | undefined>,
  settings: Partial<GatewaySettings> = {},
): GcpAdapterOptions {
  const projectId = env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT;
  if (!projectId) throw new Error('SGW_BACKEND=gcp needs GOOGLE_CLOUD_PROJECT (the project id)');
  const endpoint = env.SGW_GCP_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^[^\s/:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(endpoint)) {
    throw new Error(`SGW_GCP_ENDPOINT must be host or host:port, not ${JSON.stringify(endpoint)}`);
  }
  const labels: Record<string, string> = {};
  for (const pair of (env.SGW_GCP_LABELS ?? '').split(',').filter(Boolean)) {
    const [key = '', value = ''] = pair.split('=', 2);
    if (!LABEL_KEY.test(key) || !LABEL_VALUE.test(value)) {
      throw new Error(`SGW_GCP_LABELS: ${JSON.stringify(pair)} is not a GCP label (key=value, lower case)`);
    }
    labels[key] = value;
  }
  const caFile = env.SGW_GCP_CA_FILE || undefined;
  const insecure = envBoolean(env, 'SGW_GCP_INSECURE', false);
  if (caFile && insecure)
    throw new Error('SGW_GCP_CA_FILE is for TLS: it cannot go with SGW_GCP_INSECURE=true');
  return {
    projectId,
    endpoint,
    insecure,
    accessToken: env.SGW_GCP_ACCESS_TOKEN || undefined,
    caFile,
    replication: replicationFromEnv(env),
    timeoutMs: settings.backendTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    labels,
    root: settings.root,
  };
}

/** What `config check` prints: the project, endpoint and kind of credentials, never a token. */
export function describeOptions(options: GcpAdapterOptions): string {
  return [
    `gcp: project ${options.projectId}`,
    options.endpoint
      ? `endpoint ${options.endpoint}${options.insecure ? ' (plain text)' : options.caFile ? ` (TLS, CA ${options.caFile})` : ''}`
      : 'the Google endpoint',
    options.accessToken
      ? 'a fixed access token (SGW_GCP_ACCESS_TOKEN, development only: never refreshed)'
      : 'Application Default Credentials',
    describeReplication(options.replication),
  ].join(', ');
}
