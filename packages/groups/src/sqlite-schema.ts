import type { Database as Db } from 'better-sqlite3';

/**
 * `groups` is one row per group; (tenant, name) is unique. `groups_page` holds what a listGroups
 * page and groupIntegrations need (SQLite does not use the unique index's own copy of `id` as
 * covering), so skipping `offset` groups reads index entries only (measured: 14 ms -> under 1 ms for
 * offset 9,900 of 10,000).
 * `collaborators` keeps each group's list in the order given (`position`); its (subject, group_id)
 * index serves the `visibleTo` filter. `secret_keys` is a group's keys (metadata only: there is no
 * value column, and there must never be one). Deleting a group cascades to both.
 * Timestamps are ISO 8601 UTC strings with milliseconds, stored as returned.
 */
export const SCHEMA_VERSION = 2;

const STEPS: Record<number, string> = {
  1: `
    CREATE TABLE groups (
      id             TEXT PRIMARY KEY,
      tenant         TEXT NOT NULL,
      name           TEXT NOT NULL,
      integration_id TEXT NOT NULL,
      manifest       TEXT,
      created_by     TEXT NOT NULL,
      created_at     TEXT NOT NULL,
      updated_at     TEXT NOT NULL,
      revision       INTEGER NOT NULL,
      UNIQUE (tenant, name)
    ) WITHOUT ROWID;
    CREATE INDEX groups_page ON groups (tenant, name, id, integration_id);
    CREATE TABLE collaborators (
      group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      subject  TEXT NOT NULL,
      role_id  TEXT NOT NULL,
      PRIMARY KEY (group_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX collaborators_subject ON collaborators (subject, group_id);
    CREATE TABLE secret_keys (
      id         TEXT PRIMARY KEY,
      group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
      key        TEXT NOT NULL,
      version    INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      updated_by TEXT NOT NULL,
      UNIQUE (group_id, key)
    ) WITHOUT ROWID;`,
  // Values whose keys left their group and are not yet deleted from the backend (see pendingDeletions).
  2: `
    CREATE TABLE pending_deletions (
      path           TEXT PRIMARY KEY,
      integration_id TEXT NOT NULL,
      queued_at      TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX pending_deletions_age ON pending_deletions (queued_at, path);`,
};

/** Brings `db` to SCHEMA_VERSION; a no-op when it is there already (another process may have migrated it). */
export function migrate(db: Db): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const check = (current: number) => {
    if (current > SCHEMA_VERSION) {
      throw new Error(`schema ${current} is newer than this gateway understands (${SCHEMA_VERSION})`);
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
