import type { VersionState } from '@secret-gateway/core';

/** The `versions` map of Vault's metadata answer. */
export type VaultVersions = Record<string, { deletion_time: string; destroyed: boolean }>;

/**
 * Vault numbers versions natively and never reuses a number until the metadata is deleted, which
 * is exactly contract.md §3. A version soft-deleted or destroyed (by the gateway or by anyone with
 * Vault access) is deleted for the gateway.
 */
export function versionStates(versions: VaultVersions): VersionState[] {
  return Object.entries(versions).map(([n, v]) => ({
    version: Number(n),
    deleted: v.destroyed || v.deletion_time !== '',
  }));
}
