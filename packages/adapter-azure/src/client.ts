import { AsyncLocalStorage } from 'node:async_hooks';
import { rootCertificates } from 'node:tls';
import { ClientSecretCredential, DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import type { Budget } from '@secret-gateway/core';
import { type AzureAdapterOptions, type AzureIdentity, identityFromEnv } from './config.ts';

// core-rest-pipeline's types, reached through the SDK (it is not a direct dependency).
type PipelinePolicy = NonNullable<SecretClientOptions['additionalPolicies']>[number]['policy'];
type PipelineResponse = Awaited<ReturnType<PipelinePolicy['sendRequest']>>;

/** The running operation's budget, read by the throttling policy below (index.ts sets it). */
export const operationBudgets = new AsyncLocalStorage<Budget>();

/** Key Vault's Retry-After in ms: seconds, or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(response: PipelineResponse): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/**
 * The SDK's retry policy sleeps the whole Retry-After of a 429 before retrying, even when that is
 * past the gateway's deadline; the caller then got 503 `timeout` instead of Azure's answer. Placed
 * after the retry policy, this fails such a 429 at once, with its Retry-After: an error that is not
 * a RestError is never retried (`@typespec/ts-http-runtime` retryPolicy.js), and mapAzureError turns
 * it into 503 `throttled`.
 */
export const throttleWithinDeadline: PipelinePolicy = {
  name: 'sgw-throttle-within-deadline',
  async sendRequest(request, next) {
    const response = await next(request);
    const budget = operationBudgets.getStore();
    const waitMs = response.status === 429 ? retryAfterMs(response) : undefined;
    if (budget && waitMs !== undefined && waitMs >= budget.remainingMs())
      throw Object.assign(new Error('Key Vault throttled the call past the deadline'), {
        name: 'ThrottledPastDeadline',
        statusCode: 429,
        response,
      });
    return response;
  },
};

export function createSecretClient(options: AzureAdapterOptions): SecretClient {
  return new SecretClient(options.vaultUrl, options.credential, {
    disableChallengeResourceVerification: options.disableChallengeResourceVerification ?? false,
    // Bounded retries with short delays; SecretService's deadline cuts off whatever is left.
    retryOptions: { maxRetries: options.maxRetries ?? 2, retryDelayInMs: 100, maxRetryDelayInMs: 1000 },
    additionalPolicies: [{ policy: throttleWithinDeadline, position: 'perRetry' }],
    ...(options.caPem ? { tlsOptions: { ca: options.caPem } } : {}),
  });
}

/**
 * A credential that always presents the same token (emulators, tokens minted outside the gateway).
 * It claims a fresh hour on every call and is never refreshed: for development only.
 */
export function staticTokenCredential(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

/**
 * The credential config.ts chose: a fixed token, a client secret, or DefaultAzureCredential. The
 * client secret's token endpoint trusts `caPem` (SGW_AZURE_CA_FILE) *besides* the system CAs: a
 * private authority host (an emulator) needs it, and public Entra ID must keep working when the CA
 * file is only meant for the vault.
 */
export function credentialOf(identity: AzureIdentity, caPem?: string): TokenCredential {
  if (identity.kind === 'token') return staticTokenCredential(identity.token);
  if (identity.kind === 'client-secret') {
    return new ClientSecretCredential(identity.tenantId, identity.clientId, identity.clientSecret, {
      ...(identity.authorityHost ? { authorityHost: identity.authorityHost } : {}),
      ...(identity.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
      ...(caPem ? { tlsOptions: { ca: [...rootCertificates, caPem] } } : {}),
    });
  }
  return new DefaultAzureCredential();
}

/** Client secret when AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET are all set, else DefaultAzureCredential. */
export function credentialFromEnv(env: Record<string, string | undefined>, caPem?: string): TokenCredential {
  return credentialOf(identityFromEnv(env), caPem);
}
