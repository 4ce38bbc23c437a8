import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, SqliteAdapter, type SqliteAdapterOptions } from '../src/index.ts';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sgw-sqlite-'));
}

export function newAdapter(
  dir = tempDir(),
  keyring = new Keyring(randomBytes(32)),
  options: Partial<SqliteAdapterOptions> = {},
): SqliteAdapter {
  return new SqliteAdapter({ file: join(dir, 'secrets.db'), keyring, ...options });
}
