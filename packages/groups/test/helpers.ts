import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewGroup } from '../src/index.ts';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sgw-groups-'));
}

/** A path for a groups.db that does not exist yet. */
export function tempFile(): string {
  return join(tempDir(), 'groups.db');
}

/** A valid NewGroup for the SQLite-specific tests. */
export function sampleGroup(overrides: Partial<NewGroup> = {}): NewGroup {
  return {
    tenant: 'acme',
    name: 'payments',
    integrationId: 'default',
    collaborators: [
      { subject: 'user:alice@example.com', roleId: 'secret-group-admin' },
      { subject: 'team:ops', roleId: 'secret-group-viewer' },
    ],
    manifest: { name: 'payments', type: 'secret-group' },
    createdBy: 'user:alice@example.com',
    secrets: [
      { key: 'DB_PASSWORD', version: 1 },
      { key: 'API_KEY', version: 2 },
    ],
    ...overrides,
  };
}
