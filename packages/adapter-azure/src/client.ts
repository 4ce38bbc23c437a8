import { ClientSecretCredential, DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { AzureAdapterOptions } from './config.ts';

export function createSecretClient(options: AzureAdapterOptions): SecretClient {
  return new SecretClient(options.vaultUrl, options.credential, {
    disableChallengeResourceVerification: options.disableChallengeResourceVerification ?? false,
    // Bounded retries with short delays; SecretService's deadline cuts off whatever is left.
    retryOptions: { maxRetries: options.maxRetries ?? 2, retryDelayInMs: 100, maxRetryDelayInMs: 1000 },
    ...(options.caPem ? { tlsOptions: { ca: options.caPem } } : {}),
  });
}

/** A credential that always presents the same token (emulators, tokens minted outside the gateway). */
export function staticTokenCredential(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

/** Client secret when AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET are all set, else DefaultAzureCredential. */
export function credentialFromEnv(env: Record<string, string | undefined>): TokenCredential {
  if (env.SGW_AZURE_ACCESS_TOKEN) return staticTokenCredential(env.SGW_AZURE_ACCESS_TOKEN);
  const { AZURE_TENANT_ID: tenant, AZURE_CLIENT_ID: client, AZURE_CLIENT_SECRET: secret } = env;
  if (secret) {
    if (!tenant || !client)
      throw new Error('AZURE_CLIENT_SECRET needs AZURE_TENANT_ID and AZURE_CLIENT_ID as well');
    return new ClientSecretCredential(tenant, client, secret, {
      ...(env.AZURE_AUTHORITY_HOST ? { authorityHost: env.AZURE_AUTHORITY_HOST } : {}),
    });
  }
  return new DefaultAzureCredential();
}
