import { existsSync, statSync } from 'node:fs';
import Database, { type Database as Db } from 'better-sqlite3';

/**
 * `secrets` holds one row per path that has history: its generation (random, bound into every
 * ciphertext, new after each delete-all) and the highest version ever handed out, so a deleted
 * number is never reused. `versions` holds live versions only: deleting one removes its row.
 * `key_ids` (schema 2) counts the live rows per key id, kept by triggers, so start-up can tell
 * which keys the store needs without scanning `versions` (measured: 150 ms warm at 1M rows, and
 * growing with the store; this table is one page).
 */
export const SCHEMA_VERSION = 2;

const STEPS: Record<number, string> = {
  1: `
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
    ) WITHOUT ROWID;`,
  2: `
    CREATE TABLE key_ids (
      key_id TEXT PRIMARY KEY,
      rows   INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO key_ids (key_id, rows) SELECT key_id, count(*) FROM versions GROUP BY key_id;
    CREATE TRIGGER versions_key_id_insert AFTER INSERT ON versions BEGIN
      INSERT INTO key_ids (key_id, rows) VALUES (NEW.key_id, 1)
        ON CONFLICT (key_id) DO UPDATE SET rows = rows + 1;
    END;
    CREATE TRIGGER versions_key_id_delete AFTER DELETE ON versions BEGIN
      UPDATE key_ids SET rows = rows - 1 WHERE key_id = OLD.key_id;
      DELETE FROM key_ids WHERE key_id = OLD.key_id AND rows <= 0;
    END;
    CREATE TRIGGER versions_key_id_update AFTER UPDATE OF key_id ON versions BEGIN
      UPDATE key_ids SET rows = rows - 1 WHERE key_id = OLD.key_id;
      DELETE FROM key_ids WHERE key_id = OLD.key_id AND rows <= 0;
      INSERT INTO key_ids (key_id, rows) VALUES (NEW.key_id, 1)
        ON CONFLICT (key_id) DO UPDATE SET rows = rows + 1;
    END;`,
};

export function migrate(db: Db): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const check = (current: number) => {
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `database schema ${current} is newer than this gateway understands (${SCHEMA_VERSION})`,
      );
    }
  };
  check(version());
  if (version() === SCHEMA_VERSION) return;
  // Under the write lock, re-read: another process starting on the same file may have migrated it.
  db.transaction(() => {
    const current = version();
    check(current);
    for (let step = current + 1; step <= SCHEMA_VERSION; step++) db.exec(STEPS[step] as string);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** True when `file` is a store with at least one live secret (false when it does not exist or is empty). */
export function storeHoldsSecrets(file: string): boolean {
  if (!existsSync(file) || statSync(file).size === 0) return false;
  const db = new Database(file, { fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'versions'").get();
    return table !== undefined && db.prepare('SELECT 1 FROM versions LIMIT 1').get() !== undefined;
  } finally {
    db.close();
  }
}
