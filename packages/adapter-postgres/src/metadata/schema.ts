import type { PoolClient } from 'pg';
import { migrateSchema } from '../schema.ts';

/**
 * Secret-group metadata, the same shape as the SQLite store's (packages/groups/src/sqlite-schema.ts):
 * one row per group, (tenant, name) unique; collaborators in the order given (`position`), indexed
 * by subject for the `visibleTo` filter; a group's keys (metadata only: there is no value column,
 * and there must never be one). Deleting a group cascades to both. Names and keys are `COLLATE "C"`
 * so listings sort by bytes, as on SQLite, whatever the database's locale. The manifest is `json`,
 * not `jsonb`: it is given back as it was applied, key order included.
 */
export const METADATA_SCHEMA_VERSION = 2;

const STEPS: Record<number, string> = {
  1: `
    CREATE TABLE sgw_groups (
      id             text PRIMARY KEY,
      tenant         text COLLATE "C" NOT NULL,
      name           text COLLATE "C" NOT NULL,
      integration_id text NOT NULL,
      manifest       json,
      created_by     text NOT NULL,
      created_at     timestamptz NOT NULL,
      updated_at     timestamptz NOT NULL,
      revision       integer NOT NULL,
      UNIQUE (tenant, name)
    );
    CREATE TABLE sgw_group_collaborators (
      group_id text NOT NULL REFERENCES sgw_groups (id) ON DELETE CASCADE,
      position integer NOT NULL,
      subject  text NOT NULL,
      role_id  text NOT NULL,
      PRIMARY KEY (group_id, position)
    );
    CREATE INDEX sgw_group_collaborators_subject ON sgw_group_collaborators (subject, group_id);
    CREATE TABLE sgw_group_keys (
      id         text PRIMARY KEY,
      group_id   text NOT NULL REFERENCES sgw_groups (id) ON DELETE CASCADE,
      key        text COLLATE "C" NOT NULL,
      version    integer NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      updated_by text NOT NULL,
      UNIQUE (group_id, key)
    );`,
  // Values whose keys left their group and are not yet deleted from the backend (pendingDeletions).
  2: `
    CREATE TABLE sgw_group_pending_deletions (
      path           text COLLATE "C" PRIMARY KEY,
      integration_id text NOT NULL,
      queued_at      timestamptz NOT NULL
    );
    CREATE INDEX sgw_group_pending_deletions_age ON sgw_group_pending_deletions (queued_at, path);`,
};

/** Idempotent; safe when several replicas start at once (the adapter's advisory lock). */
export async function migrateMetadata(client: PoolClient): Promise<void> {
  await migrateSchema(client, 'sgw_groups_schema', STEPS, METADATA_SCHEMA_VERSION);
}
