import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsAdapterOptions, DEFAULTS } from './config.ts';

/**
 * The SDK's retry policy for this adapter (a RetryStrategyV2, written structurally so no extra SDK
 * package is needed): transient failures (5xx 500/502/503/504, resets, timeouts) are retried with a
 * short jittered backoff; throttling and everything else fail at once. A throttled gateway should tell
 * its clients to back off (503 + Retry-After) rather than multiply the load on an account-wide quota.
 * Every retry is also cut off by the operation's abort signal, so none outlives the deadline. Writes are
 * safe to retry: PutSecretValue with the same ClientRequestToken and value is a no-op in AWS.
 */
export function transientOnlyRetry(maxAttempts: number) {
  const token = (count: number, delay: number) => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    refreshRetryTokenForRetry: async (previous: { getRetryCount(): number }, info: { errorType: string }) => {
      const count = previous.getRetryCount() + 1;
      if (info.errorType !== 'TRANSIENT' || count >= maxAttempts) throw new Error('not retried');
      return token(count, Math.round(Math.random() * Math.min(1000, 50 * 2 ** count)));
    },
    recordSuccess: () => undefined,
  };
}

/** The official client as production uses it; only the endpoint may point elsewhere. */
export function createAwsClient(options: AwsAdapterOptions): SecretsManagerClient {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts;
  return new SecretsManagerClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts,
    retryStrategy: transientOnlyRetry(maxAttempts),
    // Belt and braces under the abort signal: no socket waits longer than one operation may take.
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  });
}
