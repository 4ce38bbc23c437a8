/** Settings of the Vault adapter, and where each comes from in the environment. */
export interface VaultAdapterOptions {
  /** Vault address, e.g. https://vault.example.com:8200 (VAULT_ADDR). */
  endpoint: string;
  /** A token (VAULT_TOKEN), or AppRole credentials to log in with. */
  auth: { token: string } | { roleId: string; secretId: string; mount?: string };
  /** Enterprise namespace (VAULT_NAMESPACE). */
  namespace?: string;
  /** Where KV v2 is mounted (SGW_VAULT_MOUNT, default `secret`). */
  mount?: string;
  /**
   * Versions kept per secret (SGW_VAULT_MAX_VERSIONS). 0 (the default) keeps every version: Vault
   * itself would keep only 10 and silently destroy older ones.
   */
  maxVersions?: number;
  /** Per-request timeout in ms, so no call outlives the gateway's deadline (default 5000). */
  requestTimeoutMs?: number;
  /** CA bundle (PEM) for a Vault served with a private CA (VAULT_CACERT). */
  ca?: string;
}

/** The environment variables this adapter reads, for documentation. */
export const VAULT_ENV = [
  {
    name: 'VAULT_ADDR',
    required: true,
    description: 'Vault address',
    example: 'https://vault.internal:8200',
  },
  { name: 'VAULT_TOKEN', required: false, description: 'Token (or use AppRole)', example: 'hvs.CAES...' },
  {
    name: 'VAULT_ROLE_ID',
    required: false,
    description: 'AppRole role id (with VAULT_SECRET_ID)',
    example: '0b2f...',
  },
  { name: 'VAULT_SECRET_ID', required: false, description: 'AppRole secret id', example: '7d1e...' },
  {
    name: 'VAULT_APPROLE_MOUNT',
    required: false,
    description: 'AppRole auth mount (default approle)',
    example: 'approle',
  },
  { name: 'VAULT_NAMESPACE', required: false, description: 'Enterprise namespace', example: 'team-a' },
  {
    name: 'VAULT_CACERT',
    required: false,
    description: 'CA bundle file for Vault TLS',
    example: '/etc/ssl/vault-ca.pem',
  },
  {
    name: 'SGW_VAULT_MOUNT',
    required: false,
    description: 'KV v2 mount (default secret)',
    example: 'secret',
  },
  {
    name: 'SGW_VAULT_MAX_VERSIONS',
    required: false,
    description: 'Versions kept per secret, 0 = all (default 0)',
    example: '0',
  },
] as const;

/** Vault keeps at most this many versions when asked to keep "all" (its field is a uint32). */
export const KEEP_ALL_VERSIONS = 2_147_483_647;
