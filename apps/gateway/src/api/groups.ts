import { ForbiddenError, UnprocessableError } from '@secret-gateway/core';
import type {
  Caller,
  GroupRecord,
  GroupService,
  GroupView,
  SecretKeyRecord,
  SecretView,
  VersionView,
} from '@secret-gateway/groups';
import type { Request } from 'express';
import type { z } from 'zod';
import type { Outcome } from '../http-errors.ts';
import type { Integrations } from '../integrations.ts';
import type { AuditOp, Exchange, Pipeline, Route } from '../pipeline.ts';
import { callerOf } from '../subjects.ts';
import {
  createGroupBody,
  listGroupsQuery,
  listSecretsBody,
  manifestBody,
  updateGroupBody,
} from './groups-schemas.ts';
import { searchOf } from './secrets.ts';

/**
 * TrueFoundry's secret-groups API (seeds 000, 001, 003, 004) as a route table: groups of key/value
 * secrets with roles, values on the group's integration at `<root>/<tenant>/<group>/<key>`.
 * Authentication is a subject's bearer token; what a subject may do is decided by GroupService.
 */
export interface GroupsApiDeps {
  groups: GroupService;
  integrations: Integrations;
  pipeline: Pipeline;
  root: string;
  /** Refuse changes (403) whatever the role allows. */
  readOnly?: boolean;
}

export const API_BASE = '/api/svc/v1';

const NO_STORE = ['Cache-Control', 'no-store'];

export function groupsRoutes(deps: GroupsApiDeps): Route[] {
  const { groups, integrations, pipeline, root } = deps;

  const caller = (ctx: Exchange): Caller => {
    const found = callerOf(ctx.principal);
    // An API key of the /secrets contract is not a subject.
    if (!found)
      throw new ForbiddenError('the secret-groups API takes a subject token (Authorization: Bearer)');
    return found;
  };

  const change = async (ctx: Exchange, op: AuditOp): Promise<Caller> => {
    const who = caller(ctx);
    if (deps.readOnly) throw new ForbiddenError('this gateway is read-only');
    await pipeline.attempt(ctx, op);
    return who;
  };

  const groupPath = (g: Pick<GroupRecord, 'tenant' | 'name'>) => `${root}/${g.tenant}/${g.name}`;
  const audited = (ctx: Exchange, g: Pick<GroupRecord, 'tenant' | 'name'>) => {
    ctx.auditPath = groupPath(g);
  };

  const ok = (data: unknown, extra?: Record<string, unknown>): Outcome => ({
    status: 200,
    body: { data, ...extra },
    headers: NO_STORE,
  });

  const groupBody = (view: GroupView) => {
    const g = view.group;
    const integration = integrations.get(g.integrationId);
    return {
      id: g.id,
      fqn: `${g.tenant}:${g.name}`,
      name: g.name,
      type: 'secret-group',
      tenantName: g.tenant,
      accountId: g.tenant,
      integrationId: g.integrationId,
      createdBySubject: subjectOf(g.createdBy),
      createdBy: g.createdBy,
      manifest: {
        ...(g.manifest ?? {}),
        name: g.name,
        type: 'secret-group',
        integration_fqn: integration?.fqn ?? g.integrationId,
        collaborators: g.collaborators.map((c) => ({ role_id: c.roleId, subject: c.subject })),
      },
      associatedSecrets: view.secrets.map((s) => secretBody(s, g)),
      createdAt: g.createdAt,
      updatedAt: g.updatedAt,
    };
  };

  const id = (ctx: Exchange): string => String((ctx.req as Request).params?.id ?? '');

  const parse = <T extends z.ZodType>(schema: T, input: unknown): z.output<T> => {
    const parsed = schema.safeParse(input ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.');
      throw new UnprocessableError(`${field ? `${field}: ` : ''}${issue?.message ?? 'invalid request'}`);
    }
    return parsed.data;
  };

  const base = `${API_BASE}/secret-groups`;
  const routes: Route[] = [
    {
      method: 'GET',
      path: base,
      op: 'group_list',
      auth: 'subject',
      async handle(ctx) {
        const who = caller(ctx);
        const query = parse(listGroupsQuery, Object.fromEntries(new URLSearchParams(searchOf(ctx.req.url))));
        let name: string | undefined;
        if (query.fqn !== undefined) {
          const [tenant, group, ...rest] = query.fqn.split(':');
          // Another tenant's group, or not a group FQN: nothing matches.
          if (tenant !== groups.tenant || !group || rest.length > 0)
            return ok([], { pagination: page(0, query) });
          name = group;
        }
        const found = await groups.list(who, { limit: query.limit, offset: query.offset, name });
        return ok(found.items.map(groupBody), { pagination: page(found.total, query) });
      },
    },
    {
      method: 'POST',
      path: base,
      op: 'group_create',
      auth: 'subject',
      body: true,
      async handle(ctx, raw) {
        const input = parse(createGroupBody, raw);
        const who = await change(ctx, 'group_create');
        const view = await groups.create(who, input);
        audited(ctx, view.group);
        return ok(groupBody(view));
      },
    },
    {
      method: 'PUT',
      path: base,
      op: 'group_apply',
      auth: 'subject',
      body: true,
      async handle(ctx, raw) {
        const { manifest } = parse(manifestBody, raw);
        const who = await change(ctx, 'group_apply');
        const view = await groups.apply(who, {
          name: manifest.name,
          integration: manifest.integration_fqn,
          collaborators: manifest.collaborators.map((c) => ({ subject: c.subject, roleId: c.role_id })),
          raw: manifest as Record<string, unknown>,
        });
        audited(ctx, view.group);
        return ok(groupBody(view));
      },
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      op: 'group_read',
      auth: 'subject',
      async handle(ctx) {
        const view = await groups.get(caller(ctx), id(ctx));
        audited(ctx, view.group);
        return ok(groupBody(view));
      },
    },
    {
      method: 'PUT',
      path: `${base}/:id`,
      op: 'group_update',
      auth: 'subject',
      body: true,
      async handle(ctx, raw) {
        const { secrets } = parse(updateGroupBody, raw);
        const who = await change(ctx, 'group_update');
        const view = await groups.update(who, id(ctx), secrets);
        audited(ctx, view.group);
        return ok(groupBody(view));
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:id`,
      op: 'group_delete',
      auth: 'subject',
      async handle(ctx) {
        const who = await change(ctx, 'group_delete');
        const group = await groups.delete(who, id(ctx));
        audited(ctx, group);
        return ok({ id: group.id, fqn: `${group.tenant}:${group.name}`, deleted: true });
      },
    },
    {
      method: 'POST',
      path: `${API_BASE}/secrets`,
      op: 'secret_list',
      auth: 'subject',
      body: true,
      async handle(ctx, raw) {
        const query = parse(listSecretsBody, raw);
        const found = await groups.listSecrets(caller(ctx), query.secretGroupId, query);
        const first = found.items[0];
        if (first) audited(ctx, first.group);
        return ok(
          found.items.map((v) => secretValueBody(v)),
          { pagination: page(found.total, query) },
        );
      },
    },
    {
      method: 'GET',
      path: `${API_BASE}/secrets/:id`,
      op: 'secret_read',
      auth: 'subject',
      async handle(ctx) {
        const view = await groups.getSecret(caller(ctx), id(ctx));
        ctx.auditPath = groups.pathOf(view.group, view.secret.key);
        ctx.auditVersion = view.versions[0]?.version ?? null;
        return ok({ ...secretValueBody(view), secretVersions: versionsBody(view, view.versions) });
      },
    },
    {
      method: 'DELETE',
      path: `${API_BASE}/secrets/:id`,
      op: 'secret_delete',
      auth: 'subject',
      async handle(ctx) {
        const who = await change(ctx, 'secret_delete');
        const view = await groups.deleteSecret(who, id(ctx));
        ctx.auditPath = groups.pathOf(view.group, view.secret.key);
        return ok({ ...secretBody(view.secret, view.group), deleted: true });
      },
    },
    {
      method: 'GET',
      path: `${API_BASE}/provider-accounts`,
      op: 'other',
      auth: 'subject',
      handle(ctx) {
        caller(ctx);
        const type = new URLSearchParams(searchOf(ctx.req.url)).get('type');
        if (type !== null && type !== 'secret-store') return ok([]);
        return ok(
          integrations.all.map((i) => ({
            id: i.id,
            name: i.name,
            fqn: `${groups.tenant}:${i.backend}:${i.id}`,
            type: 'provider-account',
            provider: i.backend,
            tenantName: groups.tenant,
            isDefault: i.id === integrations.default.id,
            integrations: [
              {
                id: i.id,
                name: i.name,
                fqn: i.fqn,
                type: 'secret-store',
                integrationType: `integration/secret-store/${i.backend}`,
              },
            ],
          })),
        );
      },
    },
    {
      method: 'GET',
      path: `${API_BASE}/whoami`,
      op: 'other',
      auth: 'subject',
      handle(ctx) {
        const who = caller(ctx);
        return ok({
          subject: who.subject,
          ...subjectOf(who.subject),
          tenantName: groups.tenant,
          tenantAdmin: who.tenantAdmin,
          teams: [...who.memberships].filter((m) => m.startsWith('team:')).map((m) => m.slice(5)),
        });
      },
    },
  ];
  return routes;
}

/** `user:a@b.c` as seed 004's Subject. */
export function subjectOf(subject: string) {
  const colon = subject.indexOf(':');
  const id = colon < 0 ? subject : subject.slice(colon + 1);
  const type = colon < 0 ? 'user' : subject.slice(0, colon);
  return { subjectId: id, subjectType: type, subjectSlug: id, subjectDisplayName: id };
}

function secretBody(s: SecretKeyRecord, g: GroupRecord) {
  return {
    id: s.id,
    fqn: `${g.tenant}:${g.name}:${s.key}`,
    name: s.key,
    secretGroupId: g.id,
    createdBySubject: subjectOf(s.createdBy),
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

/** A secret with its latest value: null for a viewer (seed 001: keys and metadata, never a value). */
function secretValueBody(view: SecretView) {
  return { ...secretBody(view.secret, view.group), value: view.value };
}

function versionsBody(view: SecretView, versions: VersionView[]) {
  const fqn = `${view.group.tenant}:${view.group.name}:${view.secret.key}`;
  return versions.map((v) => ({
    id: `${view.secret.id}:${v.version}`,
    fqn: `${fqn}:${v.version}`,
    version: v.version,
    value: v.value,
    secretId: view.secret.id,
  }));
}

function page(total: number, query: { limit: number; offset: number }) {
  return { total, offset: query.offset, limit: query.limit };
}
