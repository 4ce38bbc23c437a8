import { BackendUnavailableError } from '@secret-gateway/core';
import type { AwsCalls } from './calls.ts';

/** AWS keeps every version younger than this (reference_limits; PutSecretValue). */
export const VERSION_WINDOW_MS = 86_400_000;
/** Versions a secret may hold before AWS refuses a new one (none of them older than the window). */
export const MAX_VERSIONS = 100;
/**
 * The longest Retry-After the gateway sends for a full secret. The exact wait can be most of a day;
 * an hour bounds how long a client that honours it stays away after an operator has made room
 * (a force delete-all, or AWS support), and costs one refused write per client per hour.
 */
export const MAX_QUOTA_RETRY_SECONDS = 3600;

/**
 * The answer to LimitExceededException on PutSecretValue: the secret holds 100 versions created in
 * the last 24 hours, and AWS removes none of them, so a retry succeeds only once the oldest is a day
 * old. Retrying in 1 s (a throttle's answer) would only repeat the refusal: the Retry-After is the
 * time until the oldest version leaves the window, read from the version list (at most an hour).
 */
export async function versionQuotaError(
  aws: AwsCalls,
  name: string,
  cause: unknown,
  signal: AbortSignal,
): Promise<BackendUnavailableError> {
  let wait = MAX_QUOTA_RETRY_SECONDS;
  try {
    const created = (await aws.listVersions(name, signal))
      .map((v) => v.CreatedDate?.getTime())
      .filter((t): t is number => t !== undefined);
    const since = aws.now() - VERSION_WINDOW_MS;
    const young = created.filter((t) => t > since).sort((a, b) => a - b);
    // The version whose ageing out brings the count under the quota.
    const frees = young[young.length - MAX_VERSIONS];
    if (frees !== undefined) wait = Math.ceil((frees + VERSION_WINDOW_MS - aws.now()) / 1000);
  } catch {
    // The list is only for the delay: without it, the longest one.
  }
  const seconds = Math.min(MAX_QUOTA_RETRY_SECONDS, Math.max(1, wait));
  return new BackendUnavailableError(
    'throttled',
    `AWS refused a new version of ${name}: Secrets Manager keeps every version from the last 24 hours and allows ${MAX_VERSIONS}, so writes to this path resume in about ${Math.ceil(seconds / 60)} min; write it less often than every 15 minutes (docs/backends/aws.md)`,
    {
      cause,
      retryAfterSeconds: seconds,
      detail: { backend: 'aws', operation: 'put', backendCode: 'LimitExceededException' },
    },
  );
}
