import { ClientSecretCredential, DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { type AzureAdapterOptions, type AzureIdentity, identityFromEnv } from './config.ts';

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

/** The credential config.ts chose: a fixed token, a client secret, or DefaultAzureCredential. */
export function credentialOf(identity: AzureIdentity): TokenCredential {
  if (identity.kind === 'token') return staticTokenCredential(identity.token);
  if (identity.kind === 'client-secret') {
    return new ClientSecretCredential(identity.tenantId, identity.clientId, identity.clientSecret, {
      ...(identity.authorityHost ? { authorityHost: identity.authorityHost } : {}),
    });
  }
  return new DefaultAzureCredential();
}

/** Client secret when AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET are all set, else DefaultAzureCredential. */
export function credentialFromEnv(env: Record<string, string | undefined>): TokenCredential {
  return credentialOf(identityFromEnv(env));
}
