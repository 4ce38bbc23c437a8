import {
  type CacheResult,
  ForbiddenError,
  InvalidRequestError,
  parseVersionInput,
  parseVersionText,
  type SecretRecord,
  type StoredSecret,
} from '@secret-gateway/core';
import type { GroupService } from '@secret-gateway/groups';
import { allows } from '../auth.ts';
import type { Operation } from '../config.ts';
import { type ErrorBody, type Outcome, outcomeOf, readinessMessage } from '../http-errors.ts';
import type { Integrations } from '../integrations.ts';
import type { Exchange, Pipeline, Route } from '../pipeline.ts';
import { PreparedJson } from '../respond.ts';
import { deleteBody, firstMessage, getQuery, putBody } from '../schemas.ts';

/** TrueFoundry's Generic Secret Store contract (contract.md §1), as a route table. */
export interface SecretsApiDeps {
  integrations: Integrations;
  /** Told of writes and deletes under a group's prefix, so the groups API shows them. */
  groups?: GroupService;
  pipeline: Pipeline;
  /** Refuse writes and deletes (403) whatever the key allows. */
  readOnly?: boolean;
}

/** Header lists made once: no store, and how the read cache answered when there is one. */
const SECRET_HEADERS = ['Cache-Control', 'no-store'];
const CACHE_HEADERS: Record<CacheResult, readonly string[]> = {
  hit: [...SECRET_HEADERS, 'X-Cache', 'hit'],
  miss: [...SECRET_HEADERS, 'X-Cache', 'miss'],
  coalesced: [...SECRET_HEADERS, 'X-Cache', 'coalesced'],
  stale: [...SECRET_HEADERS, 'X-Cache', 'stale'],
};

/**
 * Bodies of cache hits, made once per cache entry: the entry's own object is the key, so a body
 * goes when its entry goes and a new version gets a new body.
 */
const hitBodies = new WeakMap<Readonly<StoredSecret>, PreparedJson>();

function hitOutcome(path: string, found: Readonly<StoredSecret>): Outcome {
  let body = hitBodies.get(found);
  if (body === undefined) {
    body = new PreparedJson(JSON.stringify({ path, version: found.version, value: found.value }));
    hitBodies.set(found, body);
  }
  return { status: 200, body, headers: CACHE_HEADERS.hit };
}

function secretOutcome(record: SecretRecord): Outcome {
  return {
    status: 200,
    body: { path: record.path, version: record.version, value: record.value },
    headers: record.cache ? CACHE_HEADERS[record.cache] : SECRET_HEADERS,
  };
}

export function secretsRoutes(deps: SecretsApiDeps): Route[] {
  const { integrations, pipeline, groups } = deps;
  // Every integration has the same root and path rules.
  const service = integrations.default.service;
  const root = service.root;

  const authorize = (ctx: Exchange, op: Operation, path: string): void => {
    if (deps.readOnly && op !== 'read') throw new ForbiddenError('this gateway is read-only');
    const principal = ctx.principal;
    // The root connectivity check needs only `read`.
    if (principal && !allows(principal, op, path === root ? undefined : path)) {
      throw new ForbiddenError(`key ${principal.name} may not ${op} ${path}`);
    }
  };

  /** A path that follows contract.md §2 (throws InvalidPathError naming the rule); audited from here on. */
  const validPath = (ctx: Exchange, raw: string): string => {
    const path = service.parsePath(raw);
    ctx.auditPath = path;
    return path;
  };

  const get: Route = {
    method: 'GET',
    path: '/secrets',
    op: 'read',
    auth: true,
    handle(ctx) {
      const query = getQuery.safeParse(readQuery(searchOf(ctx.req.url)));
      if (!query.success) throw new InvalidRequestError(firstMessage(query.error));
      const { version: versionText } = query.data;
      // Only a valid path reaches the audit trail and messages: raw input could hold anything.
      let path: string;
      if (query.data.path === root) {
        path = root;
        ctx.auditPath = path;
      } else path = validPath(ctx, query.data.path);
      authorize(ctx, 'read', path);
      // TrueFoundry's connectivity check when the integration is saved.
      if (path === root && versionText === undefined) return checkRoot(ctx, path);
      const version = versionText === undefined ? undefined : parseVersionText(versionText);
      const target = integrations.serviceFor(path);
      // A fresh cache hit is answered synchronously: no promise, no microtask.
      const hit = target.peek(path, version);
      if (hit) {
        ctx.auditVersion = hit.version;
        return hitOutcome(path, hit);
      }
      return target.get(path, version).then((record) => {
        ctx.auditVersion = record.version;
        return secretOutcome(record);
      });
    },
  };

  /**
   * 200 only while the backend is ready. Otherwise the check's cause in the operator's words: the
   * caller is authenticated, and this is what TrueFoundry shows when an integration fails to save.
   */
  const checkRoot = async (ctx: Exchange, path: string): Promise<Outcome> => {
    for (const integration of integrations.all) {
      try {
        await integration.service.check();
      } catch (error) {
        const outcome = outcomeOf(error, ctx.id);
        const name = integrations.single ? integration.service.adapter.name : `integration ${integration.id}`;
        (outcome.body as ErrorBody).message = readinessMessage(name, error);
        return outcome;
      }
    }
    return { status: 200, body: { path, value: '' }, headers: SECRET_HEADERS };
  };

  const put: Route = {
    method: 'PUT',
    path: '/secrets',
    op: 'write',
    auth: true,
    body: true,
    async handle(ctx, raw) {
      const body = putBody.safeParse(isEmpty(raw) ? undefined : raw);
      if (!body.success) throw new InvalidRequestError(firstMessage(body.error));
      const path = validPath(ctx, body.data.path);
      authorize(ctx, 'write', path);
      await pipeline.attempt(ctx, 'write');
      const written = await integrations.serviceFor(path).put(path, body.data.value);
      ctx.auditVersion = written.version;
      await groups?.noteWrite(path, written.version, actor(ctx));
      return { status: 200, body: written };
    },
  };

  const del: Route = {
    method: 'DELETE',
    path: '/secrets',
    op: 'delete',
    auth: true,
    body: true,
    notFoundStatus: 400,
    async handle(ctx, raw) {
      const body = deleteBody.safeParse(deleteInput(raw, readQuery(searchOf(ctx.req.url))));
      if (!body.success) throw new InvalidRequestError(firstMessage(body.error));
      const path = validPath(ctx, body.data.path);
      authorize(ctx, 'delete', path);
      const version = body.data.version === undefined ? undefined : parseVersionInput(body.data.version);
      ctx.auditVersion = version ?? null;
      await pipeline.attempt(ctx, 'delete');
      await integrations.serviceFor(path).delete(path, version);
      if (version === undefined) await groups?.noteDelete(path, actor(ctx));
      return { status: 200, body: { path, ...(version === undefined ? {} : { version }), deleted: true } };
    },
  };

  return [get, put, del];
}

/** Who a change through `/secrets` is attributed to in group metadata: the API key's name. */
const actor = (ctx: Exchange): string => `serviceaccount:key-${ctx.principal?.name ?? 'unknown'}`;

/**
 * What a DELETE names, from its body and its query string (for clients that cannot send a body
 * with DELETE). A field given in both must say the same: a delete is never widened or redirected
 * by the other half (`?version=3` with a body naming only the path deletes version 3, or nothing).
 */
export function deleteInput(raw: unknown, query: ReturnType<typeof readQuery>): unknown {
  const body = isEmpty(raw) ? {} : raw;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const merged: Record<string, unknown> = { ...body };
  for (const field of ['path', 'version'] as const) {
    const fromQuery = query[field];
    if (fromQuery === undefined) continue;
    if (!(field in merged)) {
      merged[field] = fromQuery;
      continue;
    }
    if (!sameField(field, merged[field], fromQuery)) {
      throw new InvalidRequestError(
        `${field} is given in both the body and the query string, with different values`,
      );
    }
  }
  return merged;
}

function sameField(field: 'path' | 'version', fromBody: unknown, fromQuery: unknown): boolean {
  if (field === 'path') return fromBody === fromQuery;
  try {
    return parseVersionInput(fromBody) === parseVersionText(fromQuery);
  } catch {
    return false;
  }
}

/** The query string of a request URL ('' when there is none). */
export function searchOf(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1;
  return q < 0 ? '' : (url as string).slice(q + 1);
}

/**
 * `path` and `version` from a query string: absent, a string, or an array when repeated (which
 * the schemas refuse). URLSearchParams decodes as node:querystring does (`+` is a space, `%XX`
 * once) at about a quarter of its cost.
 */
export function readQuery(search: string): { path?: string | string[]; version?: string | string[] } {
  // The common `path=...` alone, with nothing to decode, reads as itself.
  if (search.startsWith('path=') && !/[&%+#=]/.test(search.slice(5))) return { path: search.slice(5) };
  const params = new URLSearchParams(search);
  return { path: single(params.getAll('path')), version: single(params.getAll('version')) };
}

function single(all: string[]): string | string[] | undefined {
  return all.length === 0 ? undefined : all.length === 1 ? all[0] : all;
}

/** No body, or an empty one. */
function isEmpty(body: unknown): boolean {
  return (
    body === undefined ||
    (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0)
  );
}
