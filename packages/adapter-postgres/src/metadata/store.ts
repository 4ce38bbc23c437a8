import {
  AlreadyExistsError,
  BackendUnavailableError,
  DEFAULT_BACKEND_TIMEOUT_MS,
  ResourceNotFoundError,
  VersionConflictError,
} from '@secret-gateway/core';
import type {
  GroupChanges,
  GroupRecord,
  ListGroupsQuery,
  MetadataStore,
  NewGroup,
  Page,
  PendingDeletion,
  SecretKeyRecord,
} from '@secret-gateway/groups';
import { checkPage, newId } from '@secret-gateway/groups';
import type pg from 'pg';
import { createPool, inTransaction, Startup } from '../client.ts';
import { mapPgError } from '../errors.ts';
import { type GroupRow, listGroupsQuery, type SecretRow, SQL, toGroup, toSecret } from './queries.ts';
import { migrateMetadata } from './schema.ts';

export interface PostgresMetadataStoreOptions {
  /** The same URL as the postgres backend's (SGW_POSTGRES_URL / DATABASE_URL). */
  url: string;
  /** Connections of this store's own pool (default 4: group metadata is light next to secrets). */
  poolMax?: number;
  /** Statement timeout and how long a call waits for a connection, in ms (default 5000). */
  timeoutMs?: number;
}

/** Opaque, URL-safe, 128 random bits: never guessed, never reused (as the SQLite store's). */
const now = () => new Date().toISOString();

/**
 * Secret-group metadata in PostgreSQL, shared by every gateway replica on the database. Each write
 * is one transaction; updateGroup's revision check is the UPDATE's WHERE clause, so of concurrent
 * writers (on any replicas) from one revision the first to commit wins and the others conflict.
 */
export class PostgresMetadataStore implements MetadataStore {
  readonly name = 'postgres';
  readonly #pool: pg.Pool;
  readonly #startup: Startup;
  #closed = false;

  constructor(options: PostgresMetadataStoreOptions) {
    this.#pool = createPool(
      options.url,
      options.poolMax ?? 4,
      options.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS,
    );
    this.#startup = new Startup(async () => {
      const client = await this.#pool.connect().catch((error) => {
        throw mapPgError(error, 'connect');
      });
      let broken: Error | undefined;
      try {
        await migrateMetadata(client);
      } catch (error) {
        broken = error as Error;
        throw mapPgError(error, 'migrate');
      } finally {
        client.release(broken);
      }
    });
  }

  /** Settles once the schema is migrated; every call waits for it. */
  get ready(): Promise<void> {
    return this.#startup.ready;
  }

  async createGroup(group: NewGroup): Promise<GroupRecord> {
    const id = newId('sg_');
    const at = now();
    return this.#transaction('create group', async (client) => {
      try {
        await client.query(SQL.insertGroup, [
          id,
          group.tenant,
          group.name,
          group.integrationId,
          group.manifest === null ? null : JSON.stringify(group.manifest),
          group.createdBy,
          at,
        ]);
      } catch (error) {
        // The (tenant, name) key; never the driver's message, which quotes the row.
        if ((error as { code?: unknown }).code === '23505')
          throw new AlreadyExistsError(`secret group already exists: ${group.tenant}:${group.name}`);
        throw error;
      }
      await insertCollaborators(client, id, group.collaborators);
      await upsertSecrets(client, id, group.secrets, group.createdBy, at);
      if (group.secrets.length > 0)
        await client.query(SQL.unqueueKeys, [id, group.secrets.map((s) => s.key)]);
      return this.#groupIn(client, id);
    });
  }

  async getGroup(id: string): Promise<GroupRecord | null> {
    const rows = await this.#query<GroupRow>('get group', SQL.groupById, [id]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  async getGroupByName(tenant: string, name: string): Promise<GroupRecord | null> {
    const rows = await this.#query<GroupRow>('get group', SQL.groupByName, [tenant, name]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  async listGroups(query: ListGroupsQuery): Promise<Page<GroupRecord>> {
    checkPage(query);
    const { text, values } = listGroupsQuery(query);
    const rows = await this.#query<GroupRow & { total: number }>('list groups', text, values);
    return { items: rows.filter((r) => r.id !== null).map(toGroup), total: rows[0]?.total ?? 0 };
  }

  async updateGroup(id: string, expectedRevision: number, changes: GroupChanges): Promise<GroupRecord> {
    const at = now();
    return this.#transaction('update group', async (client) => {
      // Compare-and-set first: nothing below runs unless this writer holds the expected revision.
      const bumped = await client.query(SQL.bumpRevision, [id, at, expectedRevision]);
      if (bumped.rowCount === 0) {
        const current = (await client.query<{ revision: number }>(SQL.revision, [id])).rows[0];
        if (current === undefined) throw new ResourceNotFoundError('secret group', id);
        throw new VersionConflictError(
          `secret group ${id} is at revision ${current.revision}, not ${expectedRevision}: it changed since it was read`,
        );
      }
      if (changes.collaborators !== undefined) {
        await client.query(SQL.deleteCollaborators, [id]);
        await insertCollaborators(client, id, changes.collaborators);
      }
      if (changes.manifest !== undefined) {
        const manifest = changes.manifest === null ? null : JSON.stringify(changes.manifest);
        await client.query(SQL.setManifest, [id, manifest]);
      }
      // Removals first, so a key both removed and upserted in one change is replaced (a new id).
      if (changes.remove?.length) {
        await client.query(SQL.queueKeys, [id, at, changes.remove]);
        await client.query(SQL.deleteSecrets, [id, changes.remove]);
      }
      await upsertSecrets(client, id, changes.upsert ?? [], changes.by, at);
      if (changes.upsert?.length) await client.query(SQL.unqueueKeys, [id, changes.upsert.map((s) => s.key)]);
      return this.#groupIn(client, id);
    });
  }

  async deleteGroup(id: string): Promise<boolean> {
    return this.#transaction('delete group', async (client) => {
      // Its keys' values are queued for deletion; collaborators and keys go with it (ON DELETE CASCADE).
      await client.query(SQL.queueKeys, [id, now(), null]);
      const result = await client.query(SQL.deleteGroup, [id]);
      return (result.rowCount ?? 0) > 0;
    });
  }

  async pendingDeletions(limit: number): Promise<PendingDeletion[]> {
    checkPage({ limit, offset: 0 });
    return this.#query<PendingDeletion & pg.QueryResultRow>('pending deletions', SQL.pending, [limit]);
  }

  async deletionsDone(paths: string[]): Promise<void> {
    if (paths.length > 0) await this.#run('deletions done', SQL.unqueuePaths, [paths]);
  }

  /** Every key of a page of groups in one statement (GroupService.list: not one query per group). */
  async keysOfGroups(groupIds: string[]): Promise<Map<string, SecretKeyRecord[]>> {
    const found = new Map<string, SecretKeyRecord[]>(groupIds.map((id) => [id, []]));
    if (groupIds.length === 0) return found;
    for (const row of await this.#query<SecretRow>('keys of groups', SQL.keysOfGroups, [groupIds])) {
      found.get(row.group_id)?.push(toSecret(row));
    }
    return found;
  }

  async listSecrets(
    groupId: string,
    page: { limit: number; offset: number },
  ): Promise<Page<SecretKeyRecord>> {
    checkPage(page);
    const rows = await this.#query<SecretRow & { total: number }>('list secrets', SQL.listSecrets, [
      groupId,
      page.limit,
      page.offset,
    ]);
    return { items: rows.filter((r) => r.id !== null).map(toSecret), total: rows[0]?.total ?? 0 };
  }

  async getSecret(id: string): Promise<SecretKeyRecord | null> {
    const rows = await this.#query<SecretRow>('get secret', SQL.secretById, [id]);
    return rows[0] ? toSecret(rows[0]) : null;
  }

  async groupIntegrations(): Promise<Array<{ tenant: string; name: string; integrationId: string }>> {
    const rows = await this.#query<{ tenant: string; name: string; integration_id: string }>(
      'list integrations',
      SQL.integrations,
    );
    return rows.map((r) => ({ tenant: r.tenant, name: r.name, integrationId: r.integration_id }));
  }

  async check(): Promise<void> {
    await this.#query('check', SQL.check);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end().catch(() => undefined);
  }

  async #groupIn(client: pg.PoolClient, id: string): Promise<GroupRecord> {
    return toGroup((await client.query<GroupRow>(SQL.groupById, [id])).rows[0] as GroupRow);
  }

  async #query<R extends pg.QueryResultRow>(operation: string, text: string, values: unknown[] = []) {
    return (await this.#run<R>(operation, text, values)).rows;
  }

  /** One statement on a pooled connection (autocommit); pg's failures become typed errors. */
  async #run<R extends pg.QueryResultRow>(
    operation: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      this.#assertOpen();
      await this.#startup.whenReady();
      return await this.#pool.query<R>(text, values);
    } catch (error) {
      throw mapPgError(error, operation);
    }
  }

  async #transaction<T>(operation: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      this.#assertOpen();
      await this.#startup.whenReady();
      return await inTransaction(this.#pool, fn);
    } catch (error) {
      throw mapPgError(error, operation);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new BackendUnavailableError('unreachable', 'the secret-groups store is closed');
  }
}

async function insertCollaborators(
  client: pg.PoolClient,
  groupId: string,
  collaborators: NewGroup['collaborators'],
): Promise<void> {
  if (collaborators.length === 0) return;
  await client.query(SQL.insertCollaborators, [
    groupId,
    collaborators.map((c) => c.subject),
    collaborators.map((c) => c.roleId),
  ]);
}

async function upsertSecrets(
  client: pg.PoolClient,
  groupId: string,
  secrets: Array<{ key: string; version: number }>,
  by: string,
  at: string,
): Promise<void> {
  // One row per key, the last one given winning (as one upsert after another would): a statement
  // may not update the same row twice.
  const byKey = new Map(secrets.map((s) => [s.key, s.version]));
  if (byKey.size === 0) return;
  const keys = [...byKey.keys()];
  await client.query(SQL.upsertSecrets, [
    groupId,
    by,
    at,
    keys.map(() => newId('sec_')),
    keys,
    keys.map((k) => byKey.get(k)),
  ]);
}
