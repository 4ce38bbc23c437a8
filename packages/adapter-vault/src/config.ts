import { DEFAULT_BACKEND_TIMEOUT_MS, envInteger, type GatewaySettings } from '@secret-gateway/core';

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
   * Hard timeout of one HTTP request in ms (the gateway's `backendTimeoutMs`, default 5000). The
   * gateway's deadline aborts a request sooner through `options.signal`; this bounds calls made
   * without one.
   */
  requestTimeoutMs?: number;
  /**
   * Least time between two logins forced by a 403 (default 10 s). Every login creates a token in
   * Vault, so a token that is denied by policy must not cause a login per request.
   */
  minReloginIntervalMs?: number;
  /** CA bundle (PEM) for a Vault served with a private CA (VAULT_CACERT). */
  ca?: string;
  /** The gateway's path root (from its settings, default `tfy-secret`): check() proves access under it. */
  root?: string;
  /**
   * Told (once per kind) what the operator should act on: a static token that cannot be renewed
   * or has reached its max TTL, or a renewal that failed. The gateway logs it as a warning.
   */
  onWarning?: (message: string) => void;
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
] as const;

/** Vault keeps at most this many versions when asked to keep "all" (its field is a uint32). */
export const KEEP_ALL_VERSIONS = 2_147_483_647;

/**
 * Reads the settings from the environment without connecting; throws an Error naming what is missing
 * or malformed. The request timeout comes from the gateway's settings.
 */
export function optionsFromEnv(
  env: Record<string, string | undefined>,
  settings: Partial<GatewaySettings> = {},
): VaultAdapterOptions {
  const endpoint = env.VAULT_ADDR;
  if (!endpoint) throw new Error('SGW_BACKEND=vault needs VAULT_ADDR (e.g. https://vault.internal:8200)');
  // The address is not quoted back: a URL can carry credentials.
  if (!isHttpUrl(endpoint))
    throw new Error(
      'VAULT_ADDR must be an http:// or https:// URL with a host, e.g. https://vault.internal:8200',
    );
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
  // 0 keeps every version.
  const maxVersions = envInteger(env, 'SGW_VAULT_MAX_VERSIONS', 0, KEEP_ALL_VERSIONS) ?? 0;
  return {
    endpoint,
    auth,
    namespace: env.VAULT_NAMESPACE || undefined,
    mount: env.SGW_VAULT_MOUNT || undefined,
    maxVersions,
    ca: env.VAULT_CACERT || undefined,
    requestTimeoutMs: settings.backendTimeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS,
    root: settings.root,
  };
}

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/** What `config check` prints: the address, mount and kind of login, never a token or secret id. */
export function describeOptions(options: VaultAdapterOptions): string {
  const auth = options.auth;
  const login =
    'token' in auth
      ? 'a token (VAULT_TOKEN)'
      : 'roleId' in auth
        ? `AppRole login at auth/${auth.mount ?? 'approle'}`
        : `Kubernetes login as role ${auth.kubernetesRole} at auth/${auth.mount ?? 'kubernetes'}`;
  return [
    `vault: ${new URL(options.endpoint).origin}`,
    `KV v2 mount ${options.mount ?? 'secret'}`,
    ...(options.namespace ? [`namespace ${options.namespace}`] : []),
    login,
  ].join(', ');
}
