/** Settings of the Vault adapter, and where each comes from in the environment. */
export interface VaultAdapterOptions {
  /** Vault address, e.g. https://vault.example.com:8200 (VAULT_ADDR). */
  endpoint: string;
  /** A token (VAULT_TOKEN), or AppRole or Kubernetes credentials to log in with. */
  auth: VaultAuth;
  /** Enterprise namespace (VAULT_NAMESPACE). */
  namespace?: string;
  /** Where KV v2 is mounted (SGW_VAULT_MOUNT, default `secret`). */
  mount?: string;
  /**
   * Versions kept per secret (SGW_VAULT_MAX_VERSIONS). 0 (the default) keeps every version: Vault
   * itself would keep only 10 and silently destroy older ones.
   */
  maxVersions?: number;
  /**
   * Hard timeout of one HTTP request in ms (SGW_BACKEND_TIMEOUT_MS, default 5000). The gateway's
   * deadline aborts a request sooner through `options.signal`; this bounds calls made without one.
   */
  requestTimeoutMs?: number;
  /**
   * Least time between two logins forced by a 403 (default 10 s). Every login creates a token in
   * Vault, so a token that is denied by policy must not cause a login per request.
   */
  minReloginIntervalMs?: number;
  /** CA bundle (PEM) for a Vault served with a private CA (VAULT_CACERT). */
  ca?: string;
  /** The gateway's path root (SGW_ROOT, default `tfy-secret`): check() proves access under it. */
  root?: string;
}

export type VaultAuth =
  | { token: string }
  /** AppRole login at `auth/<mount>/login` (mount default `approle`). */
  | { roleId: string; secretId: string; mount?: string }
  /** Kubernetes login with the pod's service-account JWT, re-read at every login (it rotates). */
  | { kubernetesRole: string; jwtFile: string; mount?: string };

export const DEFAULT_K8S_JWT_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Every environment variable this adapter reads: required, default, example, description. */
export const VAULT_ENV = [
  {
    name: 'VAULT_ADDR',
    required: true,
    default: undefined,
    example: 'https://vault.internal:8200',
    description: 'Vault address',
  },
  {
    name: 'VAULT_TOKEN',
    required: false,
    default: undefined,
    example: 'hvs.CAES...',
    description: 'Token; takes precedence over AppRole and Kubernetes auth',
  },
  {
    name: 'VAULT_ROLE_ID',
    required: false,
    default: undefined,
    example: '0b2f...',
    description: 'AppRole role id (with VAULT_SECRET_ID)',
  },
  {
    name: 'VAULT_SECRET_ID',
    required: false,
    default: undefined,
    example: '7d1e...',
    description: 'AppRole secret id',
  },
  {
    name: 'VAULT_APPROLE_MOUNT',
    required: false,
    default: 'approle',
    example: 'approle',
    description: 'AppRole auth mount',
  },
  {
    name: 'VAULT_K8S_ROLE',
    required: false,
    default: undefined,
    example: 'secret-gateway',
    description: 'Kubernetes auth role (used when neither a token nor AppRole is set)',
  },
  {
    name: 'VAULT_K8S_MOUNT',
    required: false,
    default: 'kubernetes',
    example: 'kubernetes',
    description: 'Kubernetes auth mount',
  },
  {
    name: 'VAULT_K8S_TOKEN_FILE',
    required: false,
    default: DEFAULT_K8S_JWT_FILE,
    example: DEFAULT_K8S_JWT_FILE,
    description: 'Service-account JWT file, re-read at every login',
  },
  {
    name: 'VAULT_NAMESPACE',
    required: false,
    default: undefined,
    example: 'team-a',
    description: 'Enterprise namespace',
  },
  {
    name: 'VAULT_CACERT',
    required: false,
    default: undefined,
    example: '/etc/ssl/vault-ca.pem',
    description: 'CA bundle file for Vault TLS',
  },
  {
    name: 'SGW_VAULT_MOUNT',
    required: false,
    default: 'secret',
    example: 'kv/team-a',
    description: 'KV v2 mount',
  },
  {
    name: 'SGW_VAULT_MAX_VERSIONS',
    required: false,
    default: '0',
    example: '50',
    description: 'Versions kept per secret, 0 = all',
  },
  {
    name: 'SGW_BACKEND_TIMEOUT_MS',
    required: false,
    default: '5000',
    example: '2000',
    description: 'Hard timeout of one Vault request in ms',
  },
  {
    name: 'SGW_ROOT',
    required: false,
    default: 'tfy-secret',
    example: 'tfy-secret',
    description: "The gateway's path root; check() asks Vault for the token's capabilities under it",
  },
] as const;

/** Vault keeps at most this many versions when asked to keep "all" (its field is a uint32). */
export const KEEP_ALL_VERSIONS = 2_147_483_647;

/** Reads the settings from the environment; throws an Error naming what is missing or malformed. */
export function optionsFromEnv(env: Record<string, string | undefined>): VaultAdapterOptions {
  const endpoint = env.VAULT_ADDR;
  if (!endpoint) throw new Error('SGW_BACKEND=vault needs VAULT_ADDR (e.g. https://vault.internal:8200)');
  let auth: VaultAuth;
  if (env.VAULT_TOKEN) auth = { token: env.VAULT_TOKEN };
  else if (env.VAULT_ROLE_ID || env.VAULT_SECRET_ID) {
    if (!env.VAULT_ROLE_ID || !env.VAULT_SECRET_ID) {
      throw new Error(
        `SGW_BACKEND=vault with AppRole needs ${env.VAULT_ROLE_ID ? 'VAULT_SECRET_ID' : 'VAULT_ROLE_ID'}`,
      );
    }
    auth = {
      roleId: env.VAULT_ROLE_ID,
      secretId: env.VAULT_SECRET_ID,
      mount: env.VAULT_APPROLE_MOUNT || undefined,
    };
  } else if (env.VAULT_K8S_ROLE) {
    auth = {
      kubernetesRole: env.VAULT_K8S_ROLE,
      jwtFile: env.VAULT_K8S_TOKEN_FILE || DEFAULT_K8S_JWT_FILE,
      mount: env.VAULT_K8S_MOUNT || undefined,
    };
  } else {
    throw new Error(
      'SGW_BACKEND=vault needs VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID (AppRole), or VAULT_K8S_ROLE (Kubernetes auth)',
    );
  }
  const maxVersions = env.SGW_VAULT_MAX_VERSIONS ? Number(env.SGW_VAULT_MAX_VERSIONS) : 0;
  if (!Number.isInteger(maxVersions) || maxVersions < 0) {
    throw new Error('SGW_VAULT_MAX_VERSIONS must be a whole number (0 = keep all)');
  }
  const timeout = env.SGW_BACKEND_TIMEOUT_MS ? Number(env.SGW_BACKEND_TIMEOUT_MS) : undefined;
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
    throw new Error('SGW_BACKEND_TIMEOUT_MS must be a positive whole number of milliseconds');
  }
  return {
    endpoint,
    auth,
    namespace: env.VAULT_NAMESPACE || undefined,
    mount: env.SGW_VAULT_MOUNT || undefined,
    maxVersions,
    ca: env.VAULT_CACERT || undefined,
    requestTimeoutMs: timeout,
    root: env.SGW_ROOT || undefined,
  };
}
