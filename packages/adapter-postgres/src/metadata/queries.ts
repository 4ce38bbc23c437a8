import type { Collaborator, GroupRecord, SecretKeyRecord } from '@secret-gateway/groups';

/**
 * A group with its collaborators in one statement (one snapshot, one round trip): the list is
 * aggregated in position order as JSON, which the driver parses.
 */
const GROUP_SELECT = `SELECT g.id, g.tenant, g.name, g.integration_id, g.manifest, g.created_by, g.created_at,
    g.updated_at, g.revision,
    coalesce((SELECT json_agg(json_build_object('subject', c.subject, 'roleId', c.role_id) ORDER BY c.position)
              FROM sgw_group_collaborators c WHERE c.group_id = g.id), '[]') AS collaborators
  FROM sgw_groups g`;

const SECRET_SELECT =
  'SELECT k.id, k.group_id, k.key, k.version, k.created_by, k.created_at, k.updated_at, k.updated_by FROM sgw_group_keys k';

export const SQL = {
  groupById: `${GROUP_SELECT} WHERE g.id = $1`,
  groupByName: `${GROUP_SELECT} WHERE g.tenant = $1 AND g.name = $2`,
  insertGroup: `INSERT INTO sgw_groups (id, tenant, name, integration_id, manifest, created_by, created_at, updated_at, revision)
    VALUES ($1, $2, $3, $4, $5::json, $6, $7, $7, 1)`,
  // Compare-and-set: under READ COMMITTED a second writer waits on the row lock, then re-checks
  // `revision` against the committed row and matches nothing: exactly one writer wins.
  bumpRevision:
    'UPDATE sgw_groups SET revision = revision + 1, updated_at = $2 WHERE id = $1 AND revision = $3',
  revision: 'SELECT revision FROM sgw_groups WHERE id = $1',
  setManifest: 'UPDATE sgw_groups SET manifest = $2::json WHERE id = $1',
  deleteGroup: 'DELETE FROM sgw_groups WHERE id = $1',
  // Arrays in, one statement for the whole list, whatever its length.
  insertCollaborators: `INSERT INTO sgw_group_collaborators (group_id, position, subject, role_id)
    SELECT $1, c.position - 1, c.subject, c.role_id
    FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS c (subject, role_id, position)`,
  deleteCollaborators: 'DELETE FROM sgw_group_collaborators WHERE group_id = $1',
  // A new key gets the new id; an existing one keeps id, created_at and created_by.
  upsertSecrets: `INSERT INTO sgw_group_keys (id, group_id, key, version, created_by, created_at, updated_at, updated_by)
    SELECT s.id, $1, s.key, s.version, $2, $3, $3, $2
    FROM unnest($4::text[], $5::text[], $6::integer[]) AS s (id, key, version)
    ON CONFLICT (group_id, key) DO UPDATE SET
      version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  deleteSecrets: 'DELETE FROM sgw_group_keys WHERE group_id = $1 AND key = ANY($2::text[])',
  // Pending deletions: the path below the root of each key leaving group $1 (all of them, or $3's).
  queueKeys: `INSERT INTO sgw_group_pending_deletions (path, integration_id, queued_at)
    SELECT g.tenant || '/' || g.name || '/' || k.key, g.integration_id, $2
    FROM sgw_group_keys k JOIN sgw_groups g ON g.id = k.group_id
    WHERE k.group_id = $1 AND ($3::text[] IS NULL OR k.key = ANY($3::text[]))
    ON CONFLICT (path) DO UPDATE SET integration_id = excluded.integration_id`,
  unqueueKeys: `DELETE FROM sgw_group_pending_deletions WHERE path IN
    (SELECT g.tenant || '/' || g.name || '/' || k FROM sgw_groups g CROSS JOIN unnest($2::text[]) AS k WHERE g.id = $1)`,
  unqueuePaths: 'DELETE FROM sgw_group_pending_deletions WHERE path = ANY($1::text[])',
  pending: `SELECT path, integration_id AS "integrationId" FROM sgw_group_pending_deletions
    ORDER BY queued_at, path LIMIT $1`,
  secretById: `${SECRET_SELECT} WHERE k.id = $1`,
  keysOfGroups: `${SECRET_SELECT} WHERE k.group_id = ANY($1::text[]) ORDER BY k.group_id, k.key, k.id`,
  // The total and the page in one statement (one snapshot); an empty page is one row with nulls.
  listSecrets: `SELECT t.total, p.* FROM (SELECT count(*)::integer AS total FROM sgw_group_keys WHERE group_id = $1) t
    LEFT JOIN LATERAL (${SECRET_SELECT} WHERE k.group_id = $1 ORDER BY k.key, k.id LIMIT $2 OFFSET $3) p ON true
    ORDER BY p.key, p.id`,
  integrations: 'SELECT tenant, name, integration_id FROM sgw_groups ORDER BY tenant, name',
  check: 'SELECT 1 FROM sgw_groups LIMIT 1',
};

/**
 * The listGroups statement of one shape, with its parameters. One statement per shape (not
 * `$2 IS NULL OR ...`) so each is planned on its own index; total and page share one snapshot.
 */
export function listGroupsQuery(query: {
  tenant: string;
  name?: string;
  visibleTo?: string[];
  limit: number;
  offset: number;
}): { text: string; values: unknown[] } {
  const values: unknown[] = [query.tenant];
  const where = ['g.tenant = $1'];
  if (query.name !== undefined) {
    values.push(query.name);
    where.push(`g.name = $${values.length}`);
  }
  if (query.visibleTo !== undefined) {
    values.push(query.visibleTo);
    where.push(
      `g.id IN (SELECT group_id FROM sgw_group_collaborators WHERE subject = ANY($${values.length}::text[]))`,
    );
  }
  values.push(query.limit, query.offset);
  const filter = where.join(' AND ');
  const text = `SELECT t.total, p.* FROM (SELECT count(*)::integer AS total FROM sgw_groups g WHERE ${filter}) t
    LEFT JOIN LATERAL (${GROUP_SELECT} WHERE ${filter} ORDER BY g.name, g.id
      LIMIT $${values.length - 1} OFFSET $${values.length}) p ON true
    ORDER BY p.name, p.id`;
  return { text, values };
}

export interface GroupRow {
  id: string;
  tenant: string;
  name: string;
  integration_id: string;
  manifest: Record<string, unknown> | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  revision: number;
  collaborators: Collaborator[];
}

export interface SecretRow {
  id: string;
  group_id: string;
  key: string;
  version: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  updated_by: string;
}

export function toGroup(row: GroupRow): GroupRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    integrationId: row.integration_id,
    collaborators: row.collaborators,
    manifest: row.manifest,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    revision: row.revision,
  };
}

export function toSecret(row: SecretRow): SecretKeyRecord {
  return {
    id: row.id,
    groupId: row.group_id,
    key: row.key,
    version: row.version,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    updatedBy: row.updated_by,
  };
}
