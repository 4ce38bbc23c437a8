import {
  AlreadyExistsError,
  FailedDependencyError,
  KeyedMutex,
  parseSecretPath,
  ResourceNotFoundError,
  SecretGatewayError,
  type SecretService,
  UnprocessableError,
  VersionConflictError,
} from '@secret-gateway/core';
import { type Caller, can, demand, type Permission, roleOf } from './roles.ts';
import type { Collaborator, GroupRecord, MetadataStore, Page, RoleId, SecretKeyRecord } from './store.ts';

/** The integrations a group can live on: each a SecretService over one backend adapter. */
export interface IntegrationDirectory {
  /** The service of an integration, or undefined when there is no such integration. */
  service(id: string): SecretService | undefined;
  /** An integration's id from its id or its FQN (a manifest's `integration_fqn`). */
  resolve(idOrFqn: string): string | undefined;
  /** Told when a group appears on an integration or goes (undefined), so `/secrets` routes its paths. */
  groupChanged?(tenant: string, name: string, integrationId: string | undefined): void;
}

export interface GroupServiceOptions {
  store: MetadataStore;
  tenant: string;
  root: string;
  integrations: IntegrationDirectory;
  /** Where failures that do not fail the request are reported (a cleanup to retry). Never a value. */
  warn?: (fields: Record<string, unknown>, message: string) => void;
  /** How often removed keys whose backend delete failed are tried again (default 30 s). */
  retryIntervalMs?: number;
}

export interface SecretInput {
  key: string;
  value?: string;
}

export interface NewGroupInput {
  name: string;
  integrationId: string;
  secrets: SecretInput[];
  collaborators?: Collaborator[];
  manifest?: Record<string, unknown> | null;
}

export interface GroupView {
  group: GroupRecord;
  role: RoleId;
  secrets: SecretKeyRecord[];
}

export interface SecretView {
  secret: SecretKeyRecord;
  group: GroupRecord;
  /** The latest value; null for a caller who may not read values, or when the backend has none. */
  value: string | null;
}

export interface VersionView {
  version: number;
  value: string | null;
}

/** How many of a secret's most recent versions `getSecret` lists. */
export const VERSIONS_SHOWN = 10;
/** Reads of a page of secrets' values run this many at a time. */
const PARALLEL_READS = 16;

/**
 * Secret groups on top of the integrations' SecretServices: who may do what (roles.ts), where a
 * key's value lives (`<root>/<tenant>/<group>/<key>` on the group's integration, the path
 * TrueFoundry reads), and changes that are all-or-nothing from the caller's view:
 *
 * 1. new values are written first, each as a new version (a failure deletes exactly the versions
 *    this request wrote, so every key's latest is what it was);
 * 2. the metadata store switches in one transaction (keys added, changed, removed), guarded by
 *    the group's revision so a concurrent change from another replica is refused, not merged;
 * 3. only then are removed keys' values deleted. The metadata store queued them in the switch's
 *    own transaction (`pendingDeletions`), so a failed delete, a crash or a restart leaves them
 *    queued, and they are retried (at start and every `retryIntervalMs`) until they go.
 */
export class GroupService {
  readonly tenant: string;
  readonly #store: MetadataStore;
  readonly #root: string;
  readonly #integrations: IntegrationDirectory;
  readonly #warn: (fields: Record<string, unknown>, message: string) => void;
  readonly #locks = new KeyedMutex();
  readonly #retry: NodeJS.Timeout;
  #draining: Promise<void> | undefined;

  constructor(options: GroupServiceOptions) {
    this.#store = options.store;
    this.tenant = options.tenant;
    this.#root = options.root;
    this.#integrations = options.integrations;
    this.#warn = options.warn ?? (() => {});
    this.#retry = setInterval(() => void this.retryPendingDeletions(), options.retryIntervalMs ?? 30_000);
    this.#retry.unref();
    // What an earlier run left queued (a crash between a change and its deletes) goes first.
    void this.retryPendingDeletions();
  }

  get store(): MetadataStore {
    return this.#store;
  }

  /** `<root>/<tenant>/<group>/<key>`, checked against the path rules (a clear 422 otherwise). */
  pathOf(group: Pick<GroupRecord, 'tenant' | 'name'>, key: string): string {
    try {
      return parseSecretPath(`${this.#root}/${group.tenant}/${group.name}/${key}`, this.#root);
    } catch (error) {
      throw new UnprocessableError(`invalid secret key ${JSON.stringify(key)}: ${(error as Error).message}`);
    }
  }

  async create(caller: Caller, input: NewGroupInput): Promise<GroupView> {
    const name = this.#groupName(input.name);
    const keys = this.#checkKeys(input.secrets, { requireValues: true });
    const service = this.#serviceOf(input.integrationId);
    return this.#locks.run(`name:${name}`, async () => {
      if (await this.#store.getGroupByName(this.tenant, name)) {
        throw new AlreadyExistsError(`secret group ${this.tenant}:${name} already exists`);
      }
      const target = { tenant: this.tenant, name };
      const written = await this.#writeAll(
        service,
        keys.map((s) => ({ path: this.pathOf(target, s.key), key: s.key, value: s.value as string })),
      );
      const collaborators = withCreator(input.collaborators ?? [], caller.subject);
      let group: GroupRecord;
      try {
        group = await this.#store.createGroup({
          tenant: this.tenant,
          name,
          integrationId: input.integrationId,
          collaborators,
          manifest: input.manifest ?? null,
          createdBy: caller.subject,
          secrets: written.map((w) => ({ key: w.key, version: w.version })),
        });
      } catch (error) {
        await this.#undo(service, written);
        throw error;
      }
      this.#integrations.groupChanged?.(group.tenant, group.name, group.integrationId);
      return this.#view(caller, group);
    });
  }

  /**
   * `PUT /secret-groups` with a manifest (seed 000): creates the group (no secrets yet) or, for an
   * admin, replaces its collaborators and manifest. A group's integration cannot change: its values
   * live there.
   */
  async apply(
    caller: Caller,
    manifest: {
      name: string;
      integration: string;
      collaborators: Collaborator[];
      raw: Record<string, unknown>;
    },
  ): Promise<GroupView> {
    const name = this.#groupName(manifest.name);
    const integrationId = this.#integrations.resolve(manifest.integration);
    if (integrationId === undefined) {
      throw new FailedDependencyError(`no secret store integration found: ${manifest.integration}`);
    }
    const existing = await this.#store.getGroupByName(this.tenant, name);
    if (!existing) {
      try {
        return await this.create(caller, {
          name,
          integrationId,
          secrets: [],
          collaborators: manifest.collaborators,
          manifest: manifest.raw,
        });
      } catch (error) {
        // Created by a concurrent request meanwhile: apply to it as an update.
        if (!(SecretGatewayError.isInstance(error) && error.code === 'already_exists')) throw error;
      }
    }
    return this.#locks.run(`name:${name}`, async () => {
      const group = await this.#store.getGroupByName(this.tenant, name);
      demand(caller, group, 'manage', { kind: 'secret group', id: `${this.tenant}:${name}` });
      const current = group as GroupRecord;
      if (current.integrationId !== integrationId) {
        throw new UnprocessableError(
          `secret group ${this.tenant}:${name} lives on integration ${current.integrationId}; its integration cannot be changed`,
        );
      }
      const updated = await this.#store.updateGroup(current.id, current.revision, {
        collaborators: manifest.collaborators,
        manifest: manifest.raw,
        by: caller.subject,
      });
      return this.#view(caller, updated);
    });
  }

  async get(caller: Caller, id: string): Promise<GroupView> {
    const group = await this.#store.getGroup(id);
    demand(caller, group, 'view', { kind: 'secret group', id });
    return this.#view(caller, group as GroupRecord);
  }

  /** The groups the caller has a role on (a tenant admin: all), sorted by name, with their keys. */
  async list(
    caller: Caller,
    query: { limit: number; offset: number; name?: string },
  ): Promise<Page<GroupView>> {
    const page = await this.#store.listGroups({
      tenant: this.tenant,
      visibleTo: caller.tenantAdmin ? undefined : [...caller.memberships],
      name: query.name,
      limit: query.limit,
      offset: query.offset,
    });
    // The page's keys in one store call where the store can (not one query per group).
    const keys = await this.#store.keysOfGroups?.(page.items.map((group) => group.id));
    const items = await Promise.all(
      page.items.map(async (group) => ({
        group,
        role: roleOf(caller, group) as RoleId,
        secrets: keys?.get(group.id) ?? (await this.#allKeys(group.id)),
      })),
    );
    return { items, total: page.total };
  }

  /**
   * Replaces the group's secrets (seed 000 / 003): keys left out are deleted, a key without a value
   * keeps its value, a changed value becomes a new version, an unchanged one does not.
   */
  async update(caller: Caller, id: string, secrets: SecretInput[]): Promise<GroupView> {
    if (secrets.length === 0) {
      throw new UnprocessableError(
        'at least one secret is required: a secret group cannot be emptied this way',
      );
    }
    const wanted = this.#checkKeys(secrets, { requireValues: false });
    return this.#locks.run(`group:${id}`, async () => {
      const group = await this.#store.getGroup(id);
      demand(caller, group, 'edit_secrets', { kind: 'secret group', id });
      const current = group as GroupRecord;
      const service = this.#serviceOf(current.integrationId);
      const existing = new Map((await this.#allKeys(current.id)).map((s) => [s.key, s]));
      for (const s of wanted) {
        if (s.value === undefined && !existing.has(s.key)) {
          throw new UnprocessableError(`secret ${s.key} is new to the group and needs a value`);
        }
      }
      // Only values that differ from the stored ones become new versions.
      const changed = await mapLimited(
        wanted.filter((s) => s.value !== undefined),
        async (s) => {
          const path = this.pathOf(current, s.key);
          if (!existing.has(s.key)) return { path, key: s.key, value: s.value as string };
          const stored = await readLatest(service, path);
          return stored?.value === s.value ? undefined : { path, key: s.key, value: s.value as string };
        },
      );
      const toWrite = changed.filter((c) => c !== undefined);
      const keep = new Set(wanted.map((s) => s.key));
      const removed = [...existing.keys()].filter((key) => !keep.has(key));
      const written = await this.#writeAll(service, toWrite);
      let updated: GroupRecord;
      try {
        updated = await this.#store.updateGroup(current.id, current.revision, {
          upsert: written.map((w) => ({ key: w.key, version: w.version })),
          remove: removed,
          by: caller.subject,
        });
      } catch (error) {
        await this.#undo(service, written);
        throw error;
      }
      await this.#deleteValues(current, removed);
      return this.#view(caller, updated);
    });
  }

  /** Deletes the group: its metadata first (it is gone for everyone at once), then its values. */
  async delete(caller: Caller, id: string): Promise<GroupRecord> {
    return this.#locks.run(`group:${id}`, async () => {
      const group = await this.#store.getGroup(id);
      demand(caller, group, 'manage', { kind: 'secret group', id });
      const current = group as GroupRecord;
      const keys = await this.#allKeys(current.id);
      if (!(await this.#store.deleteGroup(current.id))) throw new ResourceNotFoundError('secret group', id);
      this.#integrations.groupChanged?.(current.tenant, current.name, undefined);
      await this.#deleteValues(
        current,
        keys.map((s) => s.key),
      );
      return current;
    });
  }

  async listSecrets(
    caller: Caller,
    groupId: string,
    page: { limit: number; offset: number },
  ): Promise<Page<SecretView>> {
    const group = await this.#store.getGroup(groupId);
    const role = demand(caller, group, 'view', { kind: 'secret group', id: groupId });
    const current = group as GroupRecord;
    const keys = await this.#store.listSecrets(groupId, page);
    const service = this.#serviceOf(current.integrationId);
    const items = await mapLimited(keys.items, async (secret) => ({
      secret,
      group: current,
      value: can(role, 'read_values')
        ? ((await readLatest(service, this.pathOf(current, secret.key)))?.value ?? null)
        : null,
    }));
    return { items, total: keys.total };
  }

  /** One secret with its latest value (for those who may read values) and its recent versions. */
  async getSecret(caller: Caller, id: string): Promise<SecretView & { versions: VersionView[] }> {
    const { secret, group, role } = await this.#secretFor(caller, id, 'view');
    const service = this.#serviceOf(group.integrationId);
    const path = this.pathOf(group, secret.key);
    const latest = await readLatest(service, path);
    const values = can(role, 'read_values');
    const versions: VersionView[] = [];
    if (latest) {
      const older = [];
      for (let v = latest.version - 1; v >= 1 && older.length < VERSIONS_SHOWN - 1; v--) older.push(v);
      const found = await mapLimited(older, (v) => readVersion(service, path, v));
      for (const f of [latest, ...found]) {
        if (f) versions.push({ version: f.version, value: values ? f.value : null });
      }
    }
    return { secret, group, value: values ? (latest?.value ?? null) : null, versions };
  }

  /** Deletes one key from its group: metadata first, then every version of its value. */
  async deleteSecret(caller: Caller, id: string): Promise<SecretView> {
    const found = await this.#secretFor(caller, id, 'edit_secrets');
    return this.#locks.run(`group:${found.group.id}`, async () => {
      const { secret, group } = await this.#secretFor(caller, id, 'edit_secrets');
      await this.#store.updateGroup(group.id, group.revision, { remove: [secret.key], by: caller.subject });
      await this.#deleteValues(group, [secret.key]);
      return { secret, group, value: null };
    });
  }

  /**
   * A write through `/secrets` to a group's key path (`<root>/<tenant>/<group>/<key>`): the key is
   * added to the group if new, so the two APIs show the same thing. Never fails the write.
   */
  async noteWrite(path: string, version: number, by: string): Promise<void> {
    await this.#note(path, by, (existing, key) =>
      existing?.version === version ? undefined : { upsert: [{ key, version }], by },
    );
  }

  /** A delete of every version through `/secrets`: the key leaves its group (its value is gone already). */
  async noteDelete(path: string, by: string): Promise<void> {
    await this.#note(path, by, (existing, key) => (existing ? { remove: [key], by } : undefined));
    const below = path.slice(this.#root.length + 1);
    await this.#store.deletionsDone([below]).catch(() => {});
  }

  /**
   * Deletes values the metadata store still has queued (a delete that failed, or a crash between
   * the switch and the delete). A key that is in its group again is left alone.
   */
  retryPendingDeletions(): Promise<void> {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #drain(): Promise<void> {
    let pending: Awaited<ReturnType<MetadataStore['pendingDeletions']>>;
    try {
      pending = await this.#store.pendingDeletions(100);
    } catch {
      return;
    }
    for (const { path, integrationId } of pending) {
      const [tenant, name, key] = path.split('/') as [string, string, string];
      try {
        const group = await this.#store.getGroupByName(tenant, name);
        const live = group && (await this.#allKeys(group.id)).some((s) => s.key === key);
        if (!live) {
          const service = this.#integrations.service(integrationId);
          if (!service) continue;
          await deleteIfThere(service, `${this.#root}/${path}`);
        }
        await this.#store.deletionsDone([path]);
      } catch (error) {
        this.#warn(
          { path: `${this.#root}/${path}`, error: (error as Error).name },
          'value of a removed secret not deleted yet; will retry',
        );
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#retry);
  }

  async #note(
    path: string,
    by: string,
    change: (
      existing: SecretKeyRecord | undefined,
      key: string,
    ) => { upsert?: Array<{ key: string; version: number }>; remove?: string[]; by: string } | undefined,
  ): Promise<void> {
    const parts = path.slice(this.#root.length + 1).split('/');
    if (parts.length !== 3 || parts[0] !== this.tenant) return;
    const [, name, key] = parts as [string, string, string];
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const group = await this.#store.getGroupByName(this.tenant, name);
        if (!group) return;
        const existing = (await this.#allKeys(group.id)).find((s) => s.key === key);
        const changes = change(existing, key);
        if (!changes) return;
        try {
          await this.#store.updateGroup(group.id, group.revision, changes);
          return;
        } catch (error) {
          if (!(error instanceof VersionConflictError)) throw error;
        }
      }
    } catch (error) {
      this.#warn(
        { path, by, error: (error as Error).name },
        'secret group metadata not updated after a /secrets change',
      );
    }
  }

  async #secretFor(caller: Caller, id: string, permission: Permission) {
    const secret = await this.#store.getSecret(id);
    const group = secret ? await this.#store.getGroup(secret.groupId) : null;
    const role = demand(caller, group, permission, { kind: 'secret', id });
    return { secret: secret as SecretKeyRecord, group: group as GroupRecord, role };
  }

  async #view(caller: Caller, group: GroupRecord): Promise<GroupView> {
    return { group, role: roleOf(caller, group) as RoleId, secrets: await this.#allKeys(group.id) };
  }

  async #allKeys(groupId: string): Promise<SecretKeyRecord[]> {
    const all: SecretKeyRecord[] = [];
    for (;;) {
      const page = await this.#store.listSecrets(groupId, { limit: 1000, offset: all.length });
      all.push(...page.items);
      if (page.items.length === 0 || all.length >= page.total) return all;
    }
  }

  #groupName(name: string): string {
    try {
      parseSecretPath(`${this.#root}/${this.tenant}/${name}`, this.#root);
    } catch (error) {
      throw new UnprocessableError(
        `invalid secret group name ${JSON.stringify(name)}: ${(error as Error).message}`,
      );
    }
    if (name.includes('/')) throw new UnprocessableError('a secret group name is one path segment (no "/")');
    return name;
  }

  #checkKeys(secrets: SecretInput[], options: { requireValues: boolean }): SecretInput[] {
    const seen = new Set<string>();
    for (const s of secrets) {
      if (s.key.includes('/'))
        throw new UnprocessableError(`secret key ${JSON.stringify(s.key)} must not contain "/"`);
      this.pathOf({ tenant: this.tenant, name: 'x' }, s.key);
      if (seen.has(s.key)) throw new UnprocessableError(`secret key ${s.key} is given more than once`);
      seen.add(s.key);
      if (options.requireValues && s.value === undefined) {
        throw new UnprocessableError(`secret ${s.key} needs a value`);
      }
    }
    return secrets;
  }

  #serviceOf(integrationId: string): SecretService {
    const service = this.#integrations.service(integrationId);
    if (!service) throw new FailedDependencyError(`no secret store integration found: ${integrationId}`);
    return service;
  }

  /** Writes every value as a new version; on any failure deletes the versions it wrote, then throws. */
  async #writeAll(
    service: SecretService,
    items: Array<{ path: string; key: string; value: string }>,
  ): Promise<Array<{ path: string; key: string; version: number }>> {
    const results = await mapLimited(items, async (item) => {
      try {
        const { version } = await service.put(item.path, item.value);
        return { ok: true as const, path: item.path, key: item.key, version };
      } catch (error) {
        return { ok: false as const, error };
      }
    });
    const written = results.filter((r) => r.ok);
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) {
      await this.#undo(service, written);
      throw failed.error;
    }
    return written;
  }

  /** Deletes exactly the versions a failed change wrote, so each key's latest is what it was. */
  async #undo(service: SecretService, written: Array<{ path: string; version: number }>): Promise<void> {
    await mapLimited(written, async (w) => {
      try {
        await service.delete(w.path, w.version);
      } catch (error) {
        this.#warn(
          { path: w.path, version: w.version, error: (error as Error).name },
          'could not remove a version written by a failed secret group change',
        );
      }
    });
  }

  /**
   * Deletes the values of keys that just left `group` (queued by the metadata store in the same
   * change) and forgets them in the queue; a failure leaves them queued for the retry.
   */
  async #deleteValues(group: GroupRecord, keys: string[]): Promise<void> {
    const service = this.#integrations.service(group.integrationId);
    if (!service || keys.length === 0) return;
    const done: string[] = [];
    await mapLimited(keys, async (key) => {
      const path = this.pathOf(group, key);
      try {
        await deleteIfThere(service, path);
        done.push(path.slice(this.#root.length + 1));
      } catch (error) {
        this.#warn(
          { path, error: (error as Error).name },
          'value of a removed secret not deleted yet; will retry',
        );
      }
    });
    await this.#store.deletionsDone(done).catch(() => {});
  }
}

/** Deletes every version at `path`; nothing there is fine. */
async function deleteIfThere(service: SecretService, path: string): Promise<void> {
  try {
    await service.delete(path);
  } catch (error) {
    if (!(SecretGatewayError.isInstance(error) && error.code === 'not_found')) throw error;
  }
}

/** The creator is an admin of what it creates (seed 001), whatever the collaborators say. */
function withCreator(collaborators: Collaborator[], subject: string): Collaborator[] {
  const rest = collaborators.filter((c) => c.subject !== subject);
  return [...rest, { subject, roleId: 'secret-group-admin' }];
}

async function readLatest(service: SecretService, path: string) {
  return readVersion(service, path, undefined);
}

/** A value, or null when the backend has none at that path/version. */
async function readVersion(service: SecretService, path: string, version: number | undefined) {
  try {
    const record = await service.get(path, version);
    return { version: record.version, value: record.value };
  } catch (error) {
    if (SecretGatewayError.isInstance(error) && error.code === 'not_found') return null;
    throw error;
  }
}

/** Maps with at most PARALLEL_READS calls in flight, keeping order. */
async function mapLimited<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, items.length) }, worker));
  return out;
}
