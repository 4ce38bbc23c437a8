import { mask } from './mask.ts';
import { table } from './output.ts';
import type { Secret } from './types.ts';

export function latestVersion(secret: Secret): number | undefined {
  const versions = (secret.secretVersions ?? [])
    .map((v) => v.version)
    .filter((v): v is number => typeof v === 'number');
  return versions.length ? Math.max(...versions) : undefined;
}

/** Key, ID, masked value, latest version, last update: the one way secrets are shown. */
export function secretsTable(secrets: Secret[]): string {
  return table(
    ['Key', 'ID', 'Value', 'Version', 'Updated'],
    [...secrets]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => [s.name, s.id, mask(s.value), latestVersion(s) ?? '-', s.updatedAt ?? '-']),
  );
}

/** What JSON output shows of a secret: the table's columns, value masked. */
export function secretSummary(secret: Secret) {
  return {
    key: secret.name,
    id: secret.id,
    fqn: secret.fqn,
    value: secret.value,
    version: latestVersion(secret) ?? null,
    updatedAt: secret.updatedAt ?? null,
  };
}
