import type { PoolClient } from 'pg';

/**
 * `sgw_secrets` holds one row per path that has history: its generation (random, bound into every
 * ciphertext, new after each delete-all) and the highest version ever handed out, so a deleted number
 * is never reused; the upsert on it takes the row lock that serialises writers on one path, across
 * replicas. `sgw_versions` holds live versions only. Paths are `COLLATE "C"`: byte order, so listing
 * is sorted as on every other store and a prefix is a range of the primary key.
 */
export const SCHEMA_VERSION = 1;

/** Channel of the NOTIFY every committed write and delete sends (payload: the writer's id). */
export const CHANGES_CHANNEL = 'sgw_changes';

const STEPS: Record<number, string> = {
  1: `
    CREATE TABLE sgw_secrets (
      path        text COLLATE "C" PRIMARY KEY,
      generation  bytea NOT NULL,
      max_version integer NOT NULL
    );
    CREATE TABLE sgw_versions (
      path       text COLLATE "C" NOT NULL REFERENCES sgw_secrets (path) ON DELETE CASCADE,
      version    integer NOT NULL,
      key_id     text NOT NULL,
      iv         bytea NOT NULL,
      tag        bytea NOT NULL,
      ciphertext bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (path, version)
    );
    -- Start-up and /readyz find the key ids in use by skipping through this index.
    CREATE INDEX sgw_versions_key_id ON sgw_versions (key_id);`,
};

/** Any constant: the advisory lock every replica takes to migrate, so only one does at a time. */
const MIGRATION_LOCK = 0x5367_7731;

/** Brings the secrets' tables to SCHEMA_VERSION (see migrateSchema). */
export async function migrate(client: PoolClient): Promise<void> {
  await migrateSchema(client, 'sgw_schema', STEPS, SCHEMA_VERSION);
}

/**
 * Brings one set of tables, whose version is kept in `versionTable`, to `target` in one
 * transaction (DDL is transactional in Postgres) under an advisory lock, so replicas starting
 * together migrate once and the others wait, then see it done. The secrets' tables and the
 * secret-groups metadata each keep their own version, so either can be used without the other.
 */
export async function migrateSchema(
  client: PoolClient,
  versionTable: string,
  steps: Record<number, string>,
  target: number,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${versionTable} (version integer NOT NULL)`);
    const row = (await client.query<{ version: number }>(`SELECT version FROM ${versionTable}`)).rows[0];
    const current = row?.version ?? 0;
    if (current > target)
      throw new Error(`database schema ${current} is newer than this gateway understands (${target})`);
    for (let step = current + 1; step <= target; step++) await client.query(steps[step] as string);
    if (row === undefined) await client.query(`INSERT INTO ${versionTable} (version) VALUES ($1)`, [target]);
    else await client.query(`UPDATE ${versionTable} SET version = $1`, [target]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Key ids of live rows: a skip scan over sgw_versions_key_id (one probe per distinct key). */
export const KEY_IDS_SQL = `
  WITH RECURSIVE k AS (
    SELECT min(key_id) AS id FROM sgw_versions
    UNION ALL
    SELECT (SELECT min(key_id) FROM sgw_versions WHERE key_id > k.id) FROM k WHERE k.id IS NOT NULL
  ) SELECT id FROM k WHERE id IS NOT NULL`;
