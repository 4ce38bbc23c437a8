import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  AlreadyExistsError,
  BackendError,
  BackendUnavailableError,
  ResourceNotFoundError,
  SecretGatewayError,
  VersionConflictError,
} from '@secret-gateway/core';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { checkPage, newId } from './records.ts';
import { migrate } from './sqlite-schema.ts';
import type {
  Collaborator,
  GroupChanges,
  GroupRecord,
  ListGroupsQuery,
  MetadataStore,
  NewGroup,
  Page,
  PendingDeletion,
  RoleId,
  SecretKeyRecord,
} from './store.ts';

export interface SqliteMetadataStoreOptions {
  /** Milliseconds to wait for another process's write lock before BackendUnavailableError('busy') (default 5000). */
  busyTimeoutMs?: number;
}

interface GroupRow {
  id: string;
  tenant: string;
  name: string;
  integrationId: string;
  manifest: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

const GROUP_COLUMNS = `id, tenant, name, integration_id AS integrationId, manifest, created_by AS createdBy,
  created_at AS createdAt, updated_at AS updatedAt, revision`;
const SECRET_COLUMNS = `id, group_id AS groupId, key, version, created_by AS createdBy, created_at AS createdAt,
  updated_at AS updatedAt, updated_by AS updatedBy`;

/**
 * The WHERE clause of one listGroups shape. One statement per shape (not `@name IS NULL OR ...`),
 * so SQLite plans each on the (tenant, name) index: that form read every row of the tenant
 * (measured: 41 ms for a name lookup among 10,000 groups).
 */
function listFilter(byName: boolean, byVisibility: boolean): string {
  return [
    'tenant = @tenant',
    byName ? 'name = @name' : undefined,
    // `visibleTo` is bound as a JSON array, so one statement serves any number of subjects.
    byVisibility
      ? 'id IN (SELECT group_id FROM collaborators WHERE subject IN (SELECT value FROM json_each(@visibleTo)))'
      : undefined,
  ]
    .filter(Boolean)
    .join(' AND ');
}

/** Opaque, URL-safe, 128 random bits: never guessed, never reused. */
const now = () => new Date().toISOString();

/**
 * Secret-group metadata in one SQLite file (`<dataDir>/groups.db`). Several gateway processes may
 * open the same file: every write is one IMMEDIATE transaction, and updateGroup's revision check runs
 * inside it, so the first writer wins and the others get VersionConflictError.
 */
export class SqliteMetadataStore implements MetadataStore {
  readonly name = 'sqlite';
  readonly file: string;
  readonly #db: Db;
  readonly #stmt: ReturnType<typeof prepareStatements>;
  readonly #create: (group: NewGroup) => GroupRecord;
  readonly #update: (id: string, expectedRevision: number, changes: GroupChanges) => GroupRecord;
  readonly #delete: (id: string) => boolean;
  readonly #list = new Map<string, { page: Statement; count: Statement }>();
  #closed = false;

  constructor(file: string, options: SqliteMetadataStoreOptions = {}) {
    this.file = file;
    this.#db = open(file, options.busyTimeoutMs ?? 5000);
    this.#stmt = prepareStatements(this.#db);
    this.#create = immediate(this.#db, (group: NewGroup) => this.#createTx(group));
    this.#update = immediate(this.#db, (id: string, expected: number, changes: GroupChanges) =>
      this.#updateTx(id, expected, changes),
    );
    this.#delete = immediate(this.#db, (id: string) => this.#deleteTx(id));
  }

  async createGroup(group: NewGroup): Promise<GroupRecord> {
    return this.#guard('create group', () => this.#create(group));
  }

  async getGroup(id: string): Promise<GroupRecord | null> {
    return this.#guard('get group', () =>
      this.#read(() => this.#group(this.#stmt.groupById.get(id) as GroupRow | undefined)),
    );
  }

  async getGroupByName(tenant: string, name: string): Promise<GroupRecord | null> {
    return this.#guard('get group', () =>
      this.#read(() => this.#group(this.#stmt.groupByName.get(tenant, name) as GroupRow | undefined)),
    );
  }

  async listGroups(query: ListGroupsQuery): Promise<Page<GroupRecord>> {
    const params: Record<string, unknown> = { tenant: query.tenant };
    if (query.name !== undefined) params.name = query.name;
    if (query.visibleTo !== undefined) params.visibleTo = JSON.stringify(query.visibleTo);
    checkPage(query);
    return this.#guard('list groups', () => {
      const { page, count } = this.#listStatements(query.name !== undefined, query.visibleTo !== undefined);
      // One read transaction: the page and its total come from the same snapshot.
      return this.#read(() => {
        const rows = page.all({ ...params, limit: query.limit, offset: query.offset }) as GroupRow[];
        const total = count.get(params) as number;
        const collaborators = this.#collaboratorsOf(rows.map((r) => r.id));
        return { items: rows.map((r) => toGroup(r, collaborators.get(r.id) ?? [])), total };
      });
    });
  }

  async updateGroup(id: string, expectedRevision: number, changes: GroupChanges): Promise<GroupRecord> {
    return this.#guard('update group', () => this.#update(id, expectedRevision, changes));
  }

  async deleteGroup(id: string): Promise<boolean> {
    return this.#guard('delete group', () => this.#delete(id));
  }

  async pendingDeletions(limit: number): Promise<PendingDeletion[]> {
    checkPage({ limit, offset: 0 });
    return this.#guard('pending deletions', () => this.#stmt.pending.all(limit) as PendingDeletion[]);
  }

  async deletionsDone(paths: string[]): Promise<void> {
    this.#guard('deletions done', () => {
      for (const path of paths) this.#stmt.unqueue.run(path);
    });
  }

  async listSecrets(
    groupId: string,
    page: { limit: number; offset: number },
  ): Promise<Page<SecretKeyRecord>> {
    checkPage(page);
    return this.#guard('list secrets', () =>
      this.#read(() => ({
        items: this.#stmt.listSecrets.all(groupId, page.limit, page.offset) as SecretKeyRecord[],
        total: this.#stmt.countSecrets.get(groupId) as number,
      })),
    );
  }

  async keysOfGroups(groupIds: string[]): Promise<Map<string, SecretKeyRecord[]>> {
    const byGroup = new Map<string, SecretKeyRecord[]>(groupIds.map((id) => [id, []]));
    if (groupIds.length === 0) return byGroup;
    // One statement for the whole page (it was a transaction per group: 100 groups, ~9 ms).
    const rows = this.#guard(
      'list secrets',
      () => this.#stmt.keysOfGroups.all(JSON.stringify(groupIds)) as SecretKeyRecord[],
    );
    for (const row of rows) byGroup.get(row.groupId)?.push(row);
    return byGroup;
  }

  async getSecret(id: string): Promise<SecretKeyRecord | null> {
    return this.#guard(
      'get secret',
      () => (this.#stmt.secretById.get(id) as SecretKeyRecord | undefined) ?? null,
    );
  }

  async groupIntegrations(): Promise<Array<{ tenant: string; name: string; integrationId: string }>> {
    return this.#guard(
      'list integrations',
      () => this.#stmt.integrations.all() as Array<{ tenant: string; name: string; integrationId: string }>,
    );
  }

  async check(): Promise<void> {
    this.#guard('check', () => this.#stmt.check.get());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /** Runs `fn` in one read transaction: what it reads in several statements is one snapshot. */
  #read<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  /** The page and count statements of one listGroups shape, prepared once. */
  #listStatements(byName: boolean, byVisibility: boolean): { page: Statement; count: Statement } {
    const shape = `${byName}:${byVisibility}`;
    let statements = this.#list.get(shape);
    if (!statements) {
      const where = listFilter(byName, byVisibility);
      statements = {
        // Pick the page's ids on the covering (tenant, name) index, then read only those rows:
        // skipping `offset` rows costs index entries, not whole rows.
        page: this.#db.prepare(
          `SELECT ${GROUP_COLUMNS} FROM groups WHERE id IN
             (SELECT id FROM groups WHERE ${where} ORDER BY name, id LIMIT @limit OFFSET @offset)
           ORDER BY name, id`,
        ),
        count: this.#db
          .prepare(
            byVisibility
              ? // From the caller's collaborator rows: a user who sees few of many groups counts few rows.
                `SELECT count(DISTINCT c.group_id) FROM collaborators c JOIN groups g ON g.id = c.group_id
                 WHERE c.subject IN (SELECT value FROM json_each(@visibleTo)) AND g.tenant = @tenant
                 ${byName ? 'AND g.name = @name' : ''}`
              : `SELECT count(*) FROM groups WHERE ${where}`,
          )
          .pluck(),
      };
      this.#list.set(shape, statements);
    }
    return statements;
  }

  #createTx(group: NewGroup): GroupRecord {
    const id = newId('sg_');
    const at = now();
    try {
      this.#stmt.insertGroup.run(
        id,
        group.tenant,
        group.name,
        group.integrationId,
        group.manifest === null ? null : JSON.stringify(group.manifest),
        group.createdBy,
        at,
        at,
      );
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new AlreadyExistsError(`secret group already exists: ${group.tenant}:${group.name}`);
      }
      throw error;
    }
    this.#insertCollaborators(id, group.collaborators);
    for (const { key, version } of group.secrets) {
      this.#upsertSecret(id, key, version, group.createdBy, at);
      this.#stmt.unqueue.run(`${group.tenant}/${group.name}/${key}`);
    }
    return this.#group(this.#stmt.groupById.get(id) as GroupRow) as GroupRecord;
  }

  /** The group's keys are queued for deletion from the backend; collaborators and keys cascade. */
  #deleteTx(id: string): boolean {
    const row = this.#stmt.groupById.get(id) as GroupRow | undefined;
    if (!row) return false;
    this.#stmt.queueGroup.run(`${row.tenant}/${row.name}/`, row.integrationId, now(), id);
    return this.#stmt.deleteGroup.run(id).changes > 0;
  }

  #updateTx(id: string, expectedRevision: number, changes: GroupChanges): GroupRecord {
    const at = now();
    // Compare-and-set first: nothing below runs unless this writer holds the expected revision.
    if (this.#stmt.bumpRevision.run(at, id, expectedRevision).changes === 0) {
      const current = this.#stmt.revision.get(id) as number | undefined;
      if (current === undefined) throw new ResourceNotFoundError('secret group', id);
      throw new VersionConflictError(
        `secret group ${id} is at revision ${current}, not ${expectedRevision}: it changed since it was read`,
      );
    }
    if (changes.collaborators !== undefined) {
      this.#stmt.deleteCollaborators.run(id);
      this.#insertCollaborators(id, changes.collaborators);
    }
    if (changes.manifest !== undefined) {
      this.#stmt.setManifest.run(changes.manifest === null ? null : JSON.stringify(changes.manifest), id);
    }
    const row = this.#stmt.groupById.get(id) as GroupRow;
    const prefix = `${row.tenant}/${row.name}/`;
    // Removals first, so a key both removed and upserted in one change is replaced (a new id).
    for (const key of changes.remove ?? []) {
      this.#stmt.queueKey.run(prefix, row.integrationId, at, id, key);
      this.#stmt.deleteSecret.run(id, key);
    }
    for (const { key, version } of changes.upsert ?? []) {
      this.#upsertSecret(id, key, version, changes.by, at);
      this.#stmt.unqueue.run(prefix + key);
    }
    return this.#group(this.#stmt.groupById.get(id) as GroupRow) as GroupRecord;
  }

  #insertCollaborators(groupId: string, collaborators: Collaborator[]): void {
    collaborators.forEach((c, position) => {
      this.#stmt.insertCollaborator.run(groupId, position, c.subject, c.roleId);
    });
  }

  /** A new key gets a new id; an existing one keeps id, createdAt and createdBy. */
  #upsertSecret(groupId: string, key: string, version: number, by: string, at: string): void {
    this.#stmt.upsertSecret.run(newId('sec_'), groupId, key, version, by, at, at, by);
  }

  #group(row: GroupRow | undefined): GroupRecord | null {
    if (!row) return null;
    return toGroup(row, this.#collaboratorsOf([row.id]).get(row.id) ?? []);
  }

  #collaboratorsOf(groupIds: string[]): Map<string, Collaborator[]> {
    const byGroup = new Map<string, Collaborator[]>();
    if (groupIds.length === 0) return byGroup;
    const rows = this.#stmt.collaborators.all(JSON.stringify(groupIds)) as Array<{
      groupId: string;
      subject: string;
      roleId: RoleId;
    }>;
    for (const { groupId, subject, roleId } of rows) {
      const list = byGroup.get(groupId) ?? [];
      list.push({ subject, roleId });
      byGroup.set(groupId, list);
    }
    return byGroup;
  }

  /**
   * The store's own failures become typed errors: busy past the timeout is BackendUnavailableError
   * ('busy'), other SQLite failures (disk full, I/O) 'server_error'. Typed errors pass through.
   */
  #guard<T>(operation: string, fn: () => T): T {
    if (this.#closed) throw new BackendUnavailableError('unreachable', 'the secret-groups store is closed');
    try {
      return fn();
    } catch (error) {
      if (SecretGatewayError.isInstance(error)) throw error;
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_')) {
        const busy = code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
        throw new BackendUnavailableError(
          busy ? 'busy' : 'server_error',
          `secret-groups store failed: ${code}`,
          {
            cause: error,
            detail: { backend: this.name, operation, backendCode: code },
          },
        );
      }
      throw error;
    }
  }
}

function toGroup(row: GroupRow, collaborators: Collaborator[]): GroupRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    integrationId: row.integrationId,
    collaborators,
    manifest: row.manifest === null ? null : (JSON.parse(row.manifest) as Record<string, unknown>),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    revision: row.revision,
  };
}

/** A function that runs `fn` in one BEGIN IMMEDIATE transaction (the write lock taken up front). */
function immediate<A extends unknown[], R>(db: Db, fn: (...args: A) => R): (...args: A) => R {
  return db.transaction(fn).immediate as unknown as (...args: A) => R;
}

/** Opens and migrates the file; any failure names the file, since it stops the gateway at start-up. */
function open(file: string, busyTimeoutMs: number): Db {
  let db: Db | undefined;
  try {
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      // Subjects (email addresses) and group names are not public: the file is the owner's only.
      closeSync(openSync(file, 'a', 0o600));
      chmodSync(file, 0o600);
    }
    db = new Database(file);
    // WAL + FULL: a commit is on disk before it is acknowledged; readers never block the writer.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // better-sqlite3 builds with foreign keys on; said here so deleting a group cascades whatever the build.
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    const code = (error as { code?: unknown }).code;
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackendError(
      'invalid',
      `cannot open the secret-groups store ${file}: ${reason}${typeof code === 'string' ? ` (${code})` : ''}`,
      {
        cause: error,
        detail: {
          backend: 'sqlite',
          operation: 'open',
          ...(typeof code === 'string' ? { backendCode: code } : {}),
        },
      },
    );
  }
}

function prepareStatements(db: Db) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    check: p('SELECT 1 FROM groups LIMIT 1'),
    groupById: p(`SELECT ${GROUP_COLUMNS} FROM groups WHERE id = ?`),
    groupByName: p(`SELECT ${GROUP_COLUMNS} FROM groups WHERE tenant = ? AND name = ?`),
    collaborators: p(
      `SELECT group_id AS groupId, subject, role_id AS roleId FROM collaborators
       WHERE group_id IN (SELECT value FROM json_each(?)) ORDER BY group_id, position`,
    ),
    insertGroup: p(
      `INSERT INTO groups (id, tenant, name, integration_id, manifest, created_by, created_at, updated_at, revision)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
    ),
    bumpRevision: p(
      'UPDATE groups SET revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ?',
    ),
    revision: p('SELECT revision FROM groups WHERE id = ?').pluck(),
    setManifest: p('UPDATE groups SET manifest = ? WHERE id = ?'),
    deleteGroup: p('DELETE FROM groups WHERE id = ?'),
    insertCollaborator: p(
      'INSERT INTO collaborators (group_id, position, subject, role_id) VALUES (?, ?, ?, ?)',
    ),
    deleteCollaborators: p('DELETE FROM collaborators WHERE group_id = ?'),
    upsertSecret: p(
      `INSERT INTO secret_keys (id, group_id, key, version, created_by, created_at, updated_at, updated_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, key) DO UPDATE SET
         version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    ),
    deleteSecret: p('DELETE FROM secret_keys WHERE group_id = ? AND key = ?'),
    secretById: p(`SELECT ${SECRET_COLUMNS} FROM secret_keys WHERE id = ?`),
    listSecrets: p(
      `SELECT ${SECRET_COLUMNS} FROM secret_keys WHERE group_id = ? ORDER BY key, id LIMIT ? OFFSET ?`,
    ),
    countSecrets: p('SELECT count(*) FROM secret_keys WHERE group_id = ?').pluck(),
    keysOfGroups: p(
      `SELECT ${SECRET_COLUMNS} FROM secret_keys WHERE group_id IN (SELECT value FROM json_each(?))
       ORDER BY group_id, key, id`,
    ),
    integrations: p('SELECT tenant, name, integration_id AS integrationId FROM groups ORDER BY tenant, name'),
    // Args: path prefix `<tenant>/<group>/`, integration id, time, group id (, key).
    queueKey: p(
      `INSERT INTO pending_deletions (path, integration_id, queued_at)
       SELECT ? || key, ?, ? FROM secret_keys WHERE group_id = ? AND key = ?
       ON CONFLICT (path) DO UPDATE SET integration_id = excluded.integration_id`,
    ),
    queueGroup: p(
      `INSERT INTO pending_deletions (path, integration_id, queued_at)
       SELECT ? || key, ?, ? FROM secret_keys WHERE group_id = ?
       ON CONFLICT (path) DO UPDATE SET integration_id = excluded.integration_id`,
    ),
    unqueue: p('DELETE FROM pending_deletions WHERE path = ?'),
    pending: p(
      `SELECT path, integration_id AS integrationId FROM pending_deletions ORDER BY queued_at, path LIMIT ?`,
    ),
  };
}
