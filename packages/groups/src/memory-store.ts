import { AlreadyExistsError, ResourceNotFoundError, VersionConflictError } from '@secret-gateway/core';
import { checkPage, newId } from './records.ts';
import type {
  GroupChanges,
  GroupRecord,
  ListGroupsQuery,
  MetadataStore,
  NewGroup,
  Page,
  PendingDeletion,
  SecretKeyRecord,
} from './store.ts';

/**
 * The metadata store in this process only: for the `memory` backend and for tests. Records are
 * copied in and out, so a caller can never change what is stored by mutating what it got.
 */
export class MemoryMetadataStore implements MetadataStore {
  readonly name = 'memory';
  readonly #groups = new Map<string, GroupRecord>();
  readonly #secrets = new Map<string, SecretKeyRecord>();
  /** path below the root -> integration id, in insertion order (oldest first). */
  readonly #pending = new Map<string, string>();

  async createGroup(input: NewGroup): Promise<GroupRecord> {
    if (this.#byName(input.tenant, input.name)) {
      throw new AlreadyExistsError(`secret group ${input.tenant}:${input.name} already exists`);
    }
    const now = new Date().toISOString();
    const group: GroupRecord = {
      id: newId('sg_'),
      tenant: input.tenant,
      name: input.name,
      integrationId: input.integrationId,
      collaborators: input.collaborators.map((c) => ({ ...c })),
      manifest: input.manifest === null ? null : structuredClone(input.manifest),
      createdBy: input.createdBy,
      createdAt: now,
      updatedAt: now,
      revision: 1,
    };
    this.#groups.set(group.id, group);
    for (const s of input.secrets) {
      this.#addKey(group.id, s.key, s.version, input.createdBy, now);
      this.#pending.delete(`${group.tenant}/${group.name}/${s.key}`);
    }
    return structuredClone(group);
  }

  async getGroup(id: string): Promise<GroupRecord | null> {
    const group = this.#groups.get(id);
    return group ? structuredClone(group) : null;
  }

  async getGroupByName(tenant: string, name: string): Promise<GroupRecord | null> {
    const group = this.#byName(tenant, name);
    return group ? structuredClone(group) : null;
  }

  async listGroups(query: ListGroupsQuery): Promise<Page<GroupRecord>> {
    checkPage(query);
    const visible = query.visibleTo && new Set(query.visibleTo);
    const all = [...this.#groups.values()]
      .filter((g) => g.tenant === query.tenant)
      .filter((g) => query.name === undefined || g.name === query.name)
      .filter((g) => !visible || g.collaborators.some((c) => visible.has(c.subject)))
      .sort((a, b) => (a.name === b.name ? cmp(a.id, b.id) : cmp(a.name, b.name)));
    return {
      items: all.slice(query.offset, query.offset + query.limit).map((g) => structuredClone(g)),
      total: all.length,
    };
  }

  async updateGroup(id: string, expectedRevision: number, changes: GroupChanges): Promise<GroupRecord> {
    const group = this.#groups.get(id);
    if (!group) throw new ResourceNotFoundError('secret group', id);
    if (group.revision !== expectedRevision) {
      throw new VersionConflictError(`secret group ${id} was changed by another request`);
    }
    const now = new Date().toISOString();
    if (changes.collaborators) group.collaborators = changes.collaborators.map((c) => ({ ...c }));
    if (changes.manifest !== undefined) {
      group.manifest = changes.manifest === null ? null : structuredClone(changes.manifest);
    }
    for (const key of changes.remove ?? []) {
      const found = this.#keyOf(id, key);
      if (found) {
        this.#secrets.delete(found.id);
        this.#pending.set(`${group.tenant}/${group.name}/${key}`, group.integrationId);
      }
    }
    for (const s of changes.upsert ?? []) {
      this.#pending.delete(`${group.tenant}/${group.name}/${s.key}`);
      const found = this.#keyOf(id, s.key);
      if (found) Object.assign(found, { version: s.version, updatedAt: now, updatedBy: changes.by });
      else this.#addKey(id, s.key, s.version, changes.by, now);
    }
    group.revision += 1;
    group.updatedAt = now;
    return structuredClone(group);
  }

  async deleteGroup(id: string): Promise<boolean> {
    const group = this.#groups.get(id);
    if (!group) return false;
    this.#groups.delete(id);
    for (const [secretId, s] of this.#secrets) {
      if (s.groupId !== id) continue;
      this.#secrets.delete(secretId);
      this.#pending.set(`${group.tenant}/${group.name}/${s.key}`, group.integrationId);
    }
    return true;
  }

  async pendingDeletions(limit: number): Promise<PendingDeletion[]> {
    checkPage({ limit, offset: 0 });
    return [...this.#pending].slice(0, limit).map(([path, integrationId]) => ({ path, integrationId }));
  }

  async deletionsDone(paths: string[]): Promise<void> {
    for (const path of paths) this.#pending.delete(path);
  }

  async keysOfGroups(groupIds: string[]): Promise<Map<string, SecretKeyRecord[]>> {
    const byGroup = new Map<string, SecretKeyRecord[]>(groupIds.map((id) => [id, []]));
    for (const s of this.#secrets.values()) byGroup.get(s.groupId)?.push({ ...s });
    for (const list of byGroup.values()) list.sort((a, b) => cmp(a.key, b.key));
    return byGroup;
  }

  async listSecrets(
    groupId: string,
    page: { limit: number; offset: number },
  ): Promise<Page<SecretKeyRecord>> {
    checkPage(page);
    const all = [...this.#secrets.values()]
      .filter((s) => s.groupId === groupId)
      .sort((a, b) => cmp(a.key, b.key));
    return {
      items: all.slice(page.offset, page.offset + page.limit).map((s) => ({ ...s })),
      total: all.length,
    };
  }

  async getSecret(id: string): Promise<SecretKeyRecord | null> {
    const found = this.#secrets.get(id);
    return found ? { ...found } : null;
  }

  async groupIntegrations(): Promise<Array<{ tenant: string; name: string; integrationId: string }>> {
    return [...this.#groups.values()].map((g) => ({
      tenant: g.tenant,
      name: g.name,
      integrationId: g.integrationId,
    }));
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}

  #byName(tenant: string, name: string): GroupRecord | undefined {
    for (const g of this.#groups.values()) if (g.tenant === tenant && g.name === name) return g;
    return undefined;
  }

  #keyOf(groupId: string, key: string): SecretKeyRecord | undefined {
    for (const s of this.#secrets.values()) if (s.groupId === groupId && s.key === key) return s;
    return undefined;
  }

  #addKey(groupId: string, key: string, version: number, by: string, now: string): void {
    const record: SecretKeyRecord = {
      id: newId('sec_'),
      groupId,
      key,
      version,
      createdBy: by,
      createdAt: now,
      updatedAt: now,
      updatedBy: by,
    };
    this.#secrets.set(record.id, record);
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
