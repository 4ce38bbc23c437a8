import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startHttpEmulator } from '../http.ts';
import type { CliFlags, EmulatorHandle } from '../types.ts';
import { type AppRoleCredentials, type KubernetesCredentials, TokenStore } from './auth.ts';
import { allows, capabilitiesOf } from './policy.ts';
import { createStandby, type StandbyOptions } from './standby.ts';
import { formatDuration, isDeleted, KvError, KvStore, metadataBody, parseDurationMs } from './store.ts';

export type { AppRoleCredentials, KubernetesCredentials } from './auth.ts';
export type { PolicyRule } from './policy.ts';
export type { StandbyOptions } from './standby.ts';
export { KvStore } from './store.ts';

export interface VaultEmulatorOptions {
  port?: number;
  host?: string;
  /** Root token accepted in X-Vault-Token (default `root`). */
  token?: string;
  /** Where KV v2 is mounted (default `secret`, as in Vault's dev server). */
  mount?: string;
  /**
   * The engine's configured max_versions (`<mount>/config`). Unset or 0, as on a fresh Vault, means
   * Vault's built-in 10. Vault applies the larger of this and a secret's own max_versions.
   */
  maxVersions?: number;
  /** AppRole credentials that `auth/<mount>/login` accepts (mount default `approle`). */
  approle?: AppRoleCredentials;
  /** Kubernetes auth: the role and service-account JWT `auth/<mount>/login` accepts. */
  kubernetes?: KubernetesCredentials;
  /** TTL of tokens issued by a login, in seconds (default 3600): refused with 403 once past it. */
  tokenTtlSeconds?: number;
  /**
   * Serve reads as a standby does (OpenBao by default, Vault Enterprise performance standbys):
   * from storage `staleMs` behind the active node. Off unless given.
   */
  standby?: StandbyOptions;
}

export interface VaultEmulator extends EmulatorHandle {
  token: string;
  mount: string;
  /** Backdoor for tests: the KV store of the root namespace. */
  state: KvStore;
  /** Backdoor for tests: the KV store of a namespace ('' = root namespace). */
  kv: (namespace?: string) => KvStore;
  /**
   * Backdoor for tests: issued tokens and logins; `revokeIssued()` expires every login token;
   * `grant(token, rules)` adds a token limited by a policy, enforced on every request.
   */
  tokens: TokenStore;
  /** The standby view when `standby` was given (its `staleMs` can be changed while running). */
  standby: ReturnType<typeof createStandby> | undefined;
}

const errors = (res: ServerResponse, status: number, ...messages: string[]) =>
  sendJson(res, status, { errors: messages });

/** A wire-level Vault: KV v2 at a mount (with its config), token, AppRole and Kubernetes auth, sys/health. */
export async function startVaultEmulator(options: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
  const rootToken = options.token ?? 'root';
  const mount = options.mount ?? 'secret';
  const tokens = new TokenStore(
    rootToken,
    options.approle,
    options.kubernetes,
    options.tokenTtlSeconds ?? 3600,
  );
  const stores = new Map<string, KvStore>();
  const kv = (namespace = '') => {
    let store = stores.get(namespace);
    if (!store) {
      store = new KvStore(options.maxVersions ?? 0);
      stores.set(namespace, store);
    }
    return store;
  };

  const standby = options.standby ? createStandby(options.standby) : undefined;

  const handler = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://vault');
    const path = decodeURIComponent(url.pathname);
    const method = req.method ?? 'GET';
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return errors(res, 400, 'failed to parse JSON input');
      }
    }

    if (path === '/v1/sys/health') {
      return sendJson(res, 200, {
        initialized: true,
        sealed: false,
        standby: false,
        version: '1.17.0-sgw-emulator',
      });
    }
    const login = /^\/v1\/auth\/(.+)\/login$/.exec(path);
    if (login && method === 'POST') {
      const answer = tokens.login(login[1] as string, body);
      if (answer) return sendJson(res, answer.status, answer.body);
      return errors(res, 404, `no handler for route "${path.slice(4)}". route entry not found.`);
    }
    const token = req.headers['x-vault-token'];
    if (!tokens.valid(token)) return errors(res, 403, 'permission denied');
    const policy = tokens.policyOf(token as string);
    // Both allowed by Vault's default policy.
    if (path === '/v1/auth/token/lookup-self' && method === 'GET') {
      const answer = tokens.lookupSelf(token as string);
      return sendJson(res, answer.status, answer.body);
    }
    if (path === '/v1/auth/token/renew-self' && (method === 'POST' || method === 'PUT')) {
      const answer = tokens.renewSelf(token as string, body.increment);
      return sendJson(res, answer.status, answer.body);
    }

    // https://developer.hashicorp.com/vault/api-docs/system/capabilities-self: allowed by Vault's
    // default policy; answers each path's capabilities at the top level and under `data`.
    if (path === '/v1/sys/capabilities-self' && (method === 'POST' || method === 'PUT')) {
      const paths = Array.isArray(body.paths) ? body.paths.map(String) : [String(body.path ?? '')];
      const answer: Record<string, string[]> = {};
      for (const p of paths) answer[p] = policy ? capabilitiesOf(policy, p) : ['root'];
      if (paths.length === 1) answer.capabilities = answer[paths[0] as string] as string[];
      return sendJson(res, 200, { ...answer, data: answer });
    }

    const store = kv(
      typeof req.headers['x-vault-namespace'] === 'string' ? req.headers['x-vault-namespace'] : '',
    );
    if (standby) store.trackHistory(standby.staleMs);
    const isList =
      method === 'LIST' ||
      (method === 'GET' && (url.searchParams.get('list') === 'true' || url.searchParams.get('list') === '1'));
    const prefix = `/v1/${mount}/`;
    const rest = path.startsWith(prefix) ? path.slice(prefix.length) : '';
    const slash = rest.indexOf('/');
    const kind = slash === -1 ? rest : rest.slice(0, slash);
    const secretPath = slash === -1 ? '' : rest.slice(slash + 1);
    // The ACL is checked before routing, as in Vault: a denied token learns nothing about mounts.
    if (policy) {
      const exists = store.secrets.has(secretPath);
      const capability =
        method === 'DELETE'
          ? 'delete'
          : isList
            ? 'list'
            : method === 'GET'
              ? 'read'
              : (kind === 'data' || kind === 'metadata') && !exists
                ? 'create'
                : 'update';
      if (!allows(policy, path.slice(4), capability)) return errors(res, 403, 'permission denied');
    }
    if (!path.startsWith(prefix))
      return errors(res, 404, `no handler for route "${path.slice(4)}". route entry not found.`);
    const versionsOf = () => (Array.isArray(body.versions) ? (body.versions as unknown[]).map(Number) : []);
    // A standby answers reads from its own, possibly stale, storage; writes go to the active node.
    const isRead = method === 'GET' || isList;
    const view = standby && isRead ? standby.view(req) : { fresh: true as const };
    if (view.fresh === false && view.behind) return view.behind(res);
    const at = view.fresh ? Number.POSITIVE_INFINITY : view.at;
    const secretOf = (p: string) => (view.fresh ? store.secrets.get(p) : store.secretAt(p, at));
    // Requests that modify storage answer with the index they reached (X-Vault-Index).
    const sendWritten = (status: number, payload: unknown) =>
      sendJson(res, status, payload, standby ? standby.wrote() : {});

    try {
      if (kind === 'config' && secretPath === '') {
        if (method === 'GET') {
          return sendJson(res, 200, {
            data: {
              cas_required: store.mountCasRequired,
              delete_version_after: formatDuration(store.mountDeleteVersionAfterMs),
              max_versions: store.mountMaxVersions,
            },
          });
        }
        if (method === 'POST' || method === 'PUT') {
          // path_config.go: negative disables delete_version_after (stored as -1s), 0 unsets it.
          const after =
            body.delete_version_after === undefined ? 0 : parseDurationMs(body.delete_version_after);
          if (after === undefined)
            return errors(res, 400, 'error converting input for field "delete_version_after"');
          if (typeof body.max_versions === 'number') store.mountMaxVersions = body.max_versions;
          if (typeof body.cas_required === 'boolean') store.mountCasRequired = body.cas_required;
          if (body.delete_version_after !== undefined)
            store.mountDeleteVersionAfterMs = after < 0 ? -1000 : after;
          return sendWritten(204, undefined);
        }
      }
      if (kind === 'data') {
        if (method === 'GET') {
          const wanted = Number(url.searchParams.get('version') ?? 0);
          const found = store.readFrom(secretOf(secretPath), wanted);
          if (!found) return errors(res, 404);
          const metadata = {
            created_time: found.entry.createdTime,
            custom_metadata: found.secret.customMetadata,
            deletion_time: found.entry.deletionTime,
            destroyed: found.entry.destroyed,
            version: found.version,
          };
          // A deleted or destroyed version answers 404 with its metadata, as Vault does; a
          // deletion_time still in the future (delete_version_after) is a live version.
          if (isDeleted(found.entry)) {
            return sendJson(res, 404, { data: { data: null, metadata } });
          }
          return sendJson(res, 200, { data: { data: found.entry.data, metadata } });
        }
        if (method === 'POST' || method === 'PUT') {
          if (typeof body.data !== 'object' || body.data === null)
            return errors(res, 400, 'no data provided');
          const opts = (body.options ?? {}) as { cas?: number };
          const written = store.write(secretPath, body.data as Record<string, unknown>, opts.cas);
          return sendWritten(200, {
            data: {
              created_time: written.createdTime,
              custom_metadata: null,
              deletion_time: written.deletionTime,
              destroyed: false,
              version: written.version,
            },
          });
        }
        if (method === 'DELETE') {
          store.softDelete(secretPath);
          return sendWritten(204, undefined);
        }
      }
      if (kind === 'metadata') {
        if (isList) {
          const keys = store.list(secretPath);
          return keys.length === 0 ? errors(res, 404) : sendJson(res, 200, { data: { keys } });
        }
        if (method === 'GET') {
          const secret = secretOf(secretPath);
          return secret ? sendJson(res, 200, { data: metadataBody(secret) }) : errors(res, 404);
        }
        if (method === 'POST' || method === 'PUT') {
          store.writeMetadata(secretPath, body as Parameters<KvStore['writeMetadata']>[1]);
          return sendWritten(204, undefined);
        }
        if (method === 'DELETE') {
          store.deleteMetadata(secretPath);
          return sendWritten(204, undefined);
        }
      }
      if (method === 'POST' && kind === 'delete') {
        store.softDelete(secretPath, versionsOf());
        return sendWritten(204, undefined);
      }
      if (method === 'POST' && kind === 'undelete') {
        store.undelete(secretPath, versionsOf());
        return sendWritten(204, undefined);
      }
      if (method === 'POST' && kind === 'destroy') {
        store.destroy(secretPath, versionsOf());
        return sendWritten(204, undefined);
      }
      return errors(res, 405, 'unsupported operation');
    } catch (error) {
      if (error instanceof KvError) return errors(res, error.status, error.message);
      throw error;
    }
  };

  const server = await startHttpEmulator(handler, {
    port: options.port,
    host: options.host,
    renderThrottle: (res, fault) => {
      res.setHeader('Retry-After', String(fault.retryAfterSeconds ?? 1));
      errors(res, 429, 'request path "kv": rate limit quota exceeded');
    },
    renderServerError: (res, status) =>
      errors(res, status, status === 503 ? 'Vault is sealed' : 'internal error'),
  });
  return {
    url: server.url,
    faults: server.faults,
    token: rootToken,
    mount,
    get state() {
      return kv();
    },
    kv,
    tokens,
    standby,
    info: { token: rootToken, mount },
    stop: server.stop,
  };
}

export async function startFromFlags(flags: CliFlags): Promise<VaultEmulator> {
  const num = (name: string) => (typeof flags[name] === 'string' ? Number(flags[name]) : undefined);
  return startVaultEmulator({
    port: num('port'),
    host: typeof flags.host === 'string' ? flags.host : undefined,
    token: typeof flags.token === 'string' ? flags.token : undefined,
    mount: typeof flags.mount === 'string' ? flags.mount : undefined,
    maxVersions: num('max-versions'),
    tokenTtlSeconds: num('token-ttl'),
    standby: num('stale-ms') ? { staleMs: num('stale-ms') as number } : undefined,
    approle:
      typeof flags['role-id'] === 'string' && typeof flags['secret-id'] === 'string'
        ? { roleId: flags['role-id'], secretId: flags['secret-id'] }
        : undefined,
    kubernetes:
      typeof flags['k8s-role'] === 'string' && typeof flags['k8s-jwt'] === 'string'
        ? { role: flags['k8s-role'], jwt: flags['k8s-jwt'] }
        : undefined,
  });
}
