import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsAdapterOptions } from './config.ts';

/** The official client as production uses it; only the endpoint may point elsewhere. */
export function createAwsClient(options: AwsAdapterOptions): SecretsManagerClient {
  return new SecretsManagerClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // SDK retries stay few; the gateway's deadline (abortSignal) bounds them all.
    maxAttempts: options.maxAttempts ?? 2,
  });
}
