import { ForbiddenError, ResourceNotFoundError } from '@secret-gateway/core';
import type { GroupRecord, RoleId } from './store.ts';

/** Who is asking: an authenticated subject, the teams it belongs to, and whether it is a tenant admin. */
export interface Caller {
  /** `user:<email>` or `serviceaccount:<name>`. */
  subject: string;
  tenantAdmin: boolean;
  /** The subject itself and `team:<name>` for each of its teams: what collaborators are matched against. */
  memberships: ReadonlySet<string>;
}

/** What each role may do (seed 001). A tenant admin is admin on every group. */
export type Permission = 'view' | 'read_values' | 'edit_secrets' | 'manage';

const GRANTS: Record<RoleId, ReadonlySet<Permission>> = {
  'secret-group-admin': new Set(['view', 'read_values', 'edit_secrets', 'manage']),
  'secret-group-editor': new Set(['view', 'read_values', 'edit_secrets']),
  'secret-group-viewer': new Set(['view']),
};

const RANK: Record<RoleId, number> = {
  'secret-group-viewer': 1,
  'secret-group-editor': 2,
  'secret-group-admin': 3,
};

/** The caller's strongest role on the group, or undefined when it has none. */
export function roleOf(caller: Caller, group: GroupRecord): RoleId | undefined {
  if (caller.tenantAdmin) return 'secret-group-admin';
  let best: RoleId | undefined;
  for (const c of group.collaborators) {
    if (caller.memberships.has(c.subject) && (best === undefined || RANK[c.roleId] > RANK[best]))
      best = c.roleId;
  }
  return best;
}

export function can(role: RoleId | undefined, permission: Permission): boolean {
  return role !== undefined && GRANTS[role].has(permission);
}

/**
 * Throws the one refusal every caller without the permission gets, also for a group that does not
 * exist: a caller without a role cannot tell the two apart. Only a tenant admin (admin of every
 * group there could be) learns that an id is unknown.
 */
export function demand(
  caller: Caller,
  group: GroupRecord | null,
  permission: Permission,
  what: { kind: string; id: string },
): RoleId {
  if (!group) {
    if (caller.tenantAdmin) throw new ResourceNotFoundError(what.kind, what.id);
    throw new ForbiddenError('permission denied');
  }
  const role = roleOf(caller, group);
  if (!can(role, permission)) throw new ForbiddenError('permission denied');
  return role as RoleId;
}
