import type { TokenCredential } from '@azure/identity';

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
    name: 'SGW_AZURE_ACCESS_TOKEN',
    required: false,
    description: 'A fixed bearer token instead of a credential (emulators, tokens minted elsewhere)',
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

export function parseBoolean(name: string, text: string | undefined, fallback: boolean): boolean {
  if (text === undefined || text === '') return fallback;
  if (/^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw new Error(`${name} must be true or false`);
}

export function parseCount(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new Error(`${name} must be a whole number from 0 to 10`);
  return n;
}
