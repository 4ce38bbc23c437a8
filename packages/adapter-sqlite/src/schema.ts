import type { Database } from 'better-sqlite3';

/**
 * `secrets` holds one row per path that has history: its generation (random, bound into every
 * ciphertext, new after each delete-all) and the highest version ever handed out, so a deleted
 * number is never reused. `versions` holds live versions only: deleting one removes its row.
 */
export const SCHEMA_VERSION = 1;

export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema ${current} is newer than this gateway understands (${SCHEMA_VERSION})`);
  }
  if (current === SCHEMA_VERSION) return;
  db.exec(`
    CREATE TABLE IF NOT EXISTS secrets (
      path        TEXT PRIMARY KEY,
      generation  BLOB NOT NULL,
      max_version INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS versions (
      path       TEXT NOT NULL,
      version    INTEGER NOT NULL,
      key_id     TEXT NOT NULL,
      iv         BLOB NOT NULL,
      tag        BLOB NOT NULL,
      ciphertext BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (path, version)
    ) WITHOUT ROWID;
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
}
