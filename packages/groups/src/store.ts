/**
 * Where secret-group metadata lives: groups, their collaborators and the keys they hold. Never a
 * value: values live on the group's integration (a backend adapter) at `<root>/<tenant>/<group>/<key>`.
 *
 * Small on purpose so a second engine (Postgres) implements the same thing; every implementation
 * runs `runMetadataStoreConformance` (conformance.ts). Errors are core's typed errors:
 * AlreadyExistsError (a group name taken in its tenant), ResourceNotFoundError, VersionConflictError
 * (a revision that moved), BackendUnavailableError (the store itself is down).
 */

export const ROLES = ['secret-group-admin', 'secret-group-editor', 'secret-group-viewer'] as const;
export type RoleId = (typeof ROLES)[number];

export interface Collaborator {
  /** `user:<email>`, `team:<name>` or `serviceaccount:<name>`. */
  subject: string;
  roleId: RoleId;
}

export interface GroupRecord {
  /** Opaque, stable, unique across tenants; never reused. */
  id: string;
  tenant: string;
  /** Unique within its tenant; a path segment (the group in `tfy-secret/<tenant>/<group>/<key>`). */
  name: string;
  integrationId: string;
  collaborators: Collaborator[];
  /** The manifest last applied with `PUT /secret-groups` (seed 000), as given; null if none. */
  manifest: Record<string, unknown> | null;
  /** Subject that created the group. */
  createdBy: string;
  /** ISO 8601 with milliseconds, UTC. */
  createdAt: string;
  updatedAt: string;
  /**
   * Bumped by every change to the group or its keys; writers pass the revision they read and get a
   * VersionConflictError when another writer (another replica) got there first.
   */
  revision: number;
}

export interface SecretKeyRecord {
  /** Opaque, stable, unique; a key deleted and added again gets a new id. */
  id: string;
  groupId: string;
  key: string;
  /** Latest version written through the groups API or seen through `/secrets` (informational). */
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** Subject that last changed the value. */
  updatedBy: string;
}

export interface NewGroup {
  tenant: string;
  name: string;
  integrationId: string;
  collaborators: Collaborator[];
  manifest: Record<string, unknown> | null;
  createdBy: string;
  /** The group's first keys, committed with it in one transaction. */
  secrets: Array<{ key: string; version: number }>;
}

export interface GroupChanges {
  collaborators?: Collaborator[];
  manifest?: Record<string, unknown> | null;
  /** Keys added or whose value changed (their new latest version). */
  upsert?: Array<{ key: string; version: number }>;
  /** Keys removed from the group. */
  remove?: string[];
  /** Subject making the change (updatedBy of upserted keys). */
  by: string;
}

export interface Page<T> {
  items: T[];
  /** How many match in all, for pagination. */
  total: number;
}

export interface ListGroupsQuery {
  tenant: string;
  /**
   * Only groups with a collaborator among these subjects (the caller and the caller's teams);
   * undefined: every group of the tenant (a tenant admin).
   */
  visibleTo?: string[];
  /** Exact group name (the `fqn=<tenant>:<name>` search). */
  name?: string;
  limit: number;
  offset: number;
}

/**
 * A value to delete from an integration: its key left its group (`remove`, or the group was deleted)
 * and the backend delete has not succeeded yet. `path` is below the root: `<tenant>/<group>/<key>`.
 */
export interface PendingDeletion {
  path: string;
  integrationId: string;
}

export interface MetadataStore {
  /** Short name for logs: `sqlite`, `postgres`. */
  readonly name: string;

  /** Creates the group and its first keys atomically. AlreadyExistsError when the name is taken. */
  createGroup(group: NewGroup): Promise<GroupRecord>;
  getGroup(id: string): Promise<GroupRecord | null>;
  getGroupByName(tenant: string, name: string): Promise<GroupRecord | null>;
  /** Sorted by name, then id; `total` counts every match, not just the page. */
  listGroups(query: ListGroupsQuery): Promise<Page<GroupRecord>>;
  /**
   * Applies all changes in one transaction if the group is still at `expectedRevision`
   * (VersionConflictError otherwise; ResourceNotFoundError when it is gone). Returns the new record.
   */
  updateGroup(id: string, expectedRevision: number, changes: GroupChanges): Promise<GroupRecord>;
  /** Removes the group and its keys' metadata. False when there was no such group. */
  deleteGroup(id: string): Promise<boolean>;

  /** A group's keys, sorted by key. */
  listSecrets(groupId: string, page: { limit: number; offset: number }): Promise<Page<SecretKeyRecord>>;
  /**
   * Every key of each of these groups, each list sorted by key as listSecrets sorts it; a group with
   * no keys (or no such group) maps to []. Optional: a page of groups then costs one query, not one
   * per group (GroupService.list falls back to listSecrets per group without it).
   */
  keysOfGroups?(groupIds: string[]): Promise<Map<string, SecretKeyRecord[]>>;
  getSecret(id: string): Promise<SecretKeyRecord | null>;
  /** Every group of every tenant with its integration, for routing `/secrets` paths. */
  groupIntegrations(): Promise<Array<{ tenant: string; name: string; integrationId: string }>>;

  /**
   * Values still to delete, oldest first. `updateGroup`'s `remove` and `deleteGroup` add them in
   * their own transaction, so a value is never forgotten between leaving its group and being deleted
   * (a failed delete, a crash, a restart); an upsert or a `createGroup` of the same key removes its
   * entry (the key is live again).
   */
  pendingDeletions(limit: number): Promise<PendingDeletion[]>;
  /** Forgets entries whose values are deleted. Unknown paths are ignored. */
  deletionsDone(paths: string[]): Promise<void>;

  /** Resolves when the store is usable; throws BackendUnavailableError otherwise (for /readyz). */
  check(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}
