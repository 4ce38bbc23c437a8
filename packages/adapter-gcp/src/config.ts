export interface GcpAdapterOptions {
  /** Project holding the secrets (GOOGLE_CLOUD_PROJECT). */
  projectId: string;
  /** `host:port` of the API (SGW_GCP_ENDPOINT); default Google's. */
  endpoint?: string;
  /** Plain-text gRPC, for the emulator only (SGW_GCP_INSECURE=true). */
  insecure?: boolean;
  /** A fixed OAuth access token (SGW_GCP_ACCESS_TOKEN), e.g. for the emulator; default: ADC. */
  accessToken?: string;
  /** Per-call timeout in ms; the SDK's own retries (600 s on access) are off (default 5000). */
  timeoutMs?: number;
  /** Labels on new secrets (SGW_GCP_LABELS=team=platform,env=prod). */
  labels?: Record<string, string>;
}

export const GCP_ENV = [
  { name: 'GOOGLE_CLOUD_PROJECT', required: true, description: 'Project id', example: 'acme-prod' },
  {
    name: 'GOOGLE_APPLICATION_CREDENTIALS',
    required: false,
    description: 'Service account key file (or any ADC source)',
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
    description: 'Fixed access token instead of ADC',
    example: 'sgw-emulator-token',
  },
  { name: 'SGW_GCP_LABELS', required: false, description: 'Labels on new secrets', example: 'team=platform' },
] as const;
