import type { VersionState } from '@secret-gateway/core';

/** The `versions` map of Vault's metadata answer. */
export type VaultVersions = Record<string, { deletion_time: string; destroyed: boolean }>;

/**
 * Deleted as Vault itself reads it (vault-plugin-secrets-kv path_data.go): destroyed, or a
 * deletion_time already past. With `delete_version_after` set (on the mount or the secret) every
 * live version carries a *future* deletion_time, so a non-empty one alone does not mean deleted.
 */
export function isVersionDeleted(
  v: { deletion_time: string; destroyed: boolean },
  now = Date.now(),
): boolean {
  if (v.destroyed) return true;
  if (v.deletion_time === '') return false;
  const at = Date.parse(v.deletion_time);
  // An unreadable time is treated as deleted: never serve what Vault may already refuse.
  return Number.isNaN(at) || at <= now;
}

/**
 * Vault numbers versions natively and never reuses a number until the metadata is deleted, which
 * is exactly contract.md §3. A version soft-deleted or destroyed (by the gateway or by anyone with
 * Vault access) is deleted for the gateway.
 */
export function versionStates(versions: VaultVersions, now = Date.now()): VersionState[] {
  return Object.entries(versions).map(([n, v]) => ({
    version: Number(n),
    deleted: isVersionDeleted(v, now),
  }));
}
