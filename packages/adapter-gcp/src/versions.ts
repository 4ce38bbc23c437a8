/**
 * Secret Manager versions are native: `projects/P/secrets/S/versions/N`, numbered from 1 by the
 * service, never reused, even after DeleteSecret re-creates the name (it starts again at 1, which is
 * contract.md §3 rule 4). The gateway's "deleted" is GCP's DESTROYED; a version someone DISABLED in
 * GCP is not served either, so "latest" is the newest ENABLED version.
 */

/** `.../versions/7` -> 7 (NaN for an alias or a malformed name). */
export function versionNumber(name: string | null | undefined): number {
  const tail = name?.slice(name.lastIndexOf('/') + 1) ?? '';
  return /^[1-9][0-9]*$/.test(tail) ? Number(tail) : Number.NaN;
}

export function versionName(secret: string, version: number | 'latest'): string {
  return `${secret}/versions/${version}`;
}

/** The `latest` alias: the newest version whatever its state (FAILED_PRECONDITION once destroyed). */
export const LATEST_ALIAS = 'latest';

/** ListSecretVersions filter for the versions the gateway may serve. */
export const ENABLED_FILTER = 'state:ENABLED';

/**
 * The newest ENABLED version among a listing, by number: the listing is newest first, but the
 * adapter does not rely on that order. Undefined when none is enabled.
 */
export function newestEnabled(
  versions: Iterable<{ name?: string | null; state?: string | number | null }>,
): number | undefined {
  let newest: number | undefined;
  for (const v of versions) {
    if (v.state !== undefined && v.state !== null && v.state !== 'ENABLED' && v.state !== 1) continue;
    const n = versionNumber(v.name);
    if (Number.isSafeInteger(n) && (newest === undefined || n > newest)) newest = n;
  }
  return newest;
}
