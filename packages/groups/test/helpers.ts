import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sgw-groups-'));
}

/** A path for a groups.db that does not exist yet. */
export function tempFile(): string {
  return join(tempDir(), 'groups.db');
}
