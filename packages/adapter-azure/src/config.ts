import type { TokenCredential } from '@azure/identity';
import { envBoolean, envInteger, type GatewaySettings } from '@secret-gateway/core';

export interface AzureAdapterOptions {
  /** The vault URL, `https://<vault>.vault.azure.net` (AZURE_KEYVAULT_URL). */
  vaultUrl: string;
  /** Any @azure/identity credential; fromEnv picks one from the environment (see AZURE_ENV). */
  credential: TokenCredential;
  /**
   * Delete-all purges the soft-deleted secret when the vault allows it (SGW_AZURE_PURGE, default
   * true). Under purge protection (or without the purge permission) the purge is refused; the secret
   * then stays soft-deleted and the next write recovers it into a new generation.
   */
  purge?: boolean;
  /** PEM certificates to trust instead of the system CAs, e.g. an emulator's (SGW_AZURE_CA_FILE). */
  caPem?: string;
  /**
   * Skip the check that the vault's challenge names a resource on the vault's own domain
   * (SGW_AZURE_DISABLE_CHALLENGE_RESOURCE_VERIFICATION); needed for emulators on 127.0.0.1.
   */
  disableChallengeResourceVerification?: boolean;
  /** SDK retries per call (default 2, SGW_AZURE_MAX_RETRIES); every call is also cut off at the deadline. */
  maxRetries?: number;
  /** How often delete-all polls until the soft delete has finished before purging (default 250 ms). */
  pollIntervalMs?: number;
  /**
   * The gateway's deadline per operation (SGW_BACKEND_TIMEOUT_MS, default 5000): a 429 whose
   * Retry-After does not fit in what is left of it fails at once instead of being slept through.
   */
  timeoutMs?: number;
}

export interface EnvSetting {
  name: string;
  required: boolean;
  description: string;
  example: string;
}

/** Every environment variable fromEnv reads. */
export const AZURE_ENV: readonly EnvSetting[] = [
  {
    name: 'AZURE_KEYVAULT_URL',
    required: true,
    description: 'Vault URL',
    example: 'https://my-vault.vault.azure.net',
  },
  {
    name: 'AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET',
    required: false,
    description:
      'Service principal with a client secret; without them DefaultAzureCredential is used (workload identity, managed identity, Azure CLI, ...)',
    example: '',
  },
  {
    name: 'AZURE_AUTHORITY_HOST',
    required: false,
    description: 'Entra ID authority for sovereign clouds (read by @azure/identity)',
    example: 'https://login.microsoftonline.us',
  },
  {
    name: 'SGW_AZURE_DISABLE_INSTANCE_DISCOVERY',
    required: false,
    description:
      'true when AZURE_AUTHORITY_HOST is not a Microsoft cloud (an emulator, ADFS-like hosts): skips the instance discovery call to login.microsoftonline.com',
    example: 'true',
  },
  {
    name: 'SGW_AZURE_ACCESS_TOKEN',
    required: false,
    description:
      'Development only: a fixed bearer token instead of a credential (emulators); never refreshed, so calls fail once it expires',
    example: '',
  },
  {
    name: 'SGW_AZURE_PURGE',
    required: false,
    description: 'Purge after delete-all when allowed (default true)',
    example: 'false',
  },
  {
    name: 'SGW_AZURE_CA_FILE',
    required: false,
    description: 'PEM file of CAs to trust instead of the system ones',
    example: '/etc/sgw/emulator.pem',
  },
  {
    name: 'SGW_AZURE_DISABLE_CHALLENGE_RESOURCE_VERIFICATION',
    required: false,
    description: 'true for emulators whose URL is not on the vault domain',
    example: 'true',
  },
  {
    name: 'SGW_AZURE_MAX_RETRIES',
    required: false,
    description: 'SDK retries per call (default 2)',
    example: '2',
  },
];

/** Which credential the adapter builds (client.ts `credentialOf`); checked without contacting Entra ID. */
export type AzureIdentity =
  | { kind: 'token'; token: string }
  | {
      kind: 'client-secret';
      tenantId: string;
      clientId: string;
      clientSecret: string;
      authorityHost?: string;
      /** Trust authorityHost without asking login.microsoftonline.com (msal instance discovery). */
      disableInstanceDiscovery?: boolean;
    }
  | { kind: 'default' };

/** The adapter's options as read from the environment, before the credential and CA file are loaded. */
export interface AzureSettings extends Omit<AzureAdapterOptions, 'credential' | 'caPem'> {
  identity: AzureIdentity;
  /** SGW_AZURE_CA_FILE, read when the adapter is built. */
  caFile?: string;
}

/** A fixed token, else a client secret when AZURE_CLIENT_SECRET is set, else DefaultAzureCredential. */
export function identityFromEnv(env: Record<string, string | undefined>): AzureIdentity {
  if (env.SGW_AZURE_ACCESS_TOKEN) return { kind: 'token', token: env.SGW_AZURE_ACCESS_TOKEN };
  const { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: clientSecret } = env;
  if (!clientSecret) return { kind: 'default' };
  if (!tenantId || !clientId)
    throw new Error('AZURE_CLIENT_SECRET needs AZURE_TENANT_ID and AZURE_CLIENT_ID as well');
  const authorityHost = env.AZURE_AUTHORITY_HOST || undefined;
  const disableInstanceDiscovery = envBoolean(env, 'SGW_AZURE_DISABLE_INSTANCE_DISCOVERY', false);
  return {
    kind: 'client-secret',
    tenantId,
    clientId,
    clientSecret,
    ...(authorityHost ? { authorityHost } : {}),
    ...(disableInstanceDiscovery ? { disableInstanceDiscovery } : {}),
  };
}

/**
 * Reads AZURE_ENV without connecting or reading files; throws an Error naming the variable that is
 * missing or malformed. Key Vault serves only https, so an http:// URL is refused. The gateway's
 * deadline bounds every operation (and how long a Retry-After may be waited out).
 */
export function settingsFromEnv(
  env: Record<string, string | undefined>,
  settings?: Partial<GatewaySettings>,
): AzureSettings {
  const vaultUrl = env.AZURE_KEYVAULT_URL;
  if (!vaultUrl)
    throw new Error('SGW_BACKEND=azure needs AZURE_KEYVAULT_URL (https://<vault>.vault.azure.net)');
  if (!isHttpsUrl(vaultUrl))
    throw new Error('AZURE_KEYVAULT_URL must be an https:// URL (Key Vault serves only https)');
  return {
    vaultUrl,
    identity: identityFromEnv(env),
    purge: envBoolean(env, 'SGW_AZURE_PURGE', true),
    caFile: env.SGW_AZURE_CA_FILE || undefined,
    disableChallengeResourceVerification: envBoolean(
      env,
      'SGW_AZURE_DISABLE_CHALLENGE_RESOURCE_VERIFICATION',
      false,
    ),
    maxRetries: envInteger(env, 'SGW_AZURE_MAX_RETRIES', 0, 10) ?? 2,
    ...(settings?.backendTimeoutMs !== undefined ? { timeoutMs: settings.backendTimeoutMs } : {}),
  };
}

function isHttpsUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return url.protocol === 'https:' && url.hostname !== '';
}

/** What `config check` prints: the vault and the kind of identity, never a token or client secret. */
export function describeSettings(settings: AzureSettings): string {
  const identity = settings.identity;
  const who =
    identity.kind === 'token'
      ? 'a fixed access token (SGW_AZURE_ACCESS_TOKEN: development only, never refreshed)'
      : identity.kind === 'client-secret'
        ? `service principal ${identity.clientId} in tenant ${identity.tenantId}`
        : 'DefaultAzureCredential';
  return [
    `azure: ${new URL(settings.vaultUrl).origin}`,
    who,
    settings.purge === false ? 'no purge after delete-all' : 'purge after delete-all when allowed',
  ].join(', ');
}
