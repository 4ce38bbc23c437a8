import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WindowQuota } from '../faults.ts';
import { sendJson, startHttpEmulator } from '../http.ts';
import { selfSignedLoopback } from '../tls.ts';
import type { CliFlags, EmulatorHandle } from '../types.ts';
import { type EntraOptions, EntraTenant } from './entra.ts';
import { AzureError, type AzureSecret, AzureState, type AzureVersion, type DeletedSecret } from './state.ts';

export type { EntraOptions } from './entra.ts';
export { EntraTenant } from './entra.ts';
export type { AzureSecret, AzureVersion, DeletedSecret } from './state.ts';
export { AzureState, MAX_VALUE_BYTES } from './state.ts';

export interface AzureEmulatorOptions {
  port?: number;
  host?: string;
  /** Refuse purges, as a vault with purge protection does (default false). */
  purgeProtection?: boolean;
  /** Soft-delete retention, 7-90 days (default 90); only shown in scheduledPurgeDate. */
  softDeleteDays?: number;
  /** How long a purged name answers 409 ObjectIsBeingDeleted (default 300 ms). */
  purgeBusyMs?: number;
  /** How long a recovered secret answers 409 ObjectIsBeingRecovered (default 300 ms). */
  recoverBusyMs?: number;
  /** Serve HTTPS with a fresh self-signed certificate (default true); false serves plain http. */
  https?: boolean;
  /** Tenant id shown in the bearer challenge. */
  tenantId?: string;
  /** Bearer tokens accepted; unset or empty accepts any (see AzureEmulator.tokens). */
  acceptedTokens?: string[];
  /**
   * The vault-wide transaction quota: Key Vault allows 4,000 secret transactions per 10 s per vault
   * and answers 429 with Retry-After past it
   * (https://learn.microsoft.com/azure/key-vault/general/service-limits). `true` uses those numbers;
   * off unless asked for.
   */
  transactionQuota?: boolean | WindowQuota;
  /** A standing latency on every request, in ms (the real service is never instant). */
  latencyMs?: number;
  /**
   * Serve an Entra ID token endpoint for this service principal under `/<tenantId>/` (point
   * AZURE_AUTHORITY_HOST at the emulator), and make Key Vault accept only the tokens it issued
   * while they have not expired (401 otherwise). Off unless asked for.
   */
  entra?: EntraOptions;
}

/** Key Vault's documented quota for secrets: 4,000 transactions per 10 seconds per vault. */
export const KEY_VAULT_TRANSACTIONS = { limit: 4000, windowMs: 10_000 };

/**
 * Which bearer tokens the vault accepts. Key Vault answers a token it cannot validate with 401
 * (AKV10022/AKV10032 and similar), and an identity without a role on the vault with 403 Forbidden,
 * inner error ForbiddenByRbac (https://learn.microsoft.com/azure/key-vault/general/rbac-guide).
 */
export interface AzureTokens {
  /** When non-empty, any other token gets 401. */
  accepted: Set<string>;
  /** Tokens of identities with no role: valid, but every operation gets 403 ForbiddenByRbac. */
  denied: Set<string>;
}

export interface AzureEmulator extends EmulatorHandle {
  /** The vault URL to give SecretClient (same as `url`). */
  vaultUrl: string;
  /** PEM certificate to trust (as `ca`, or via NODE_EXTRA_CA_CERTS); undefined over plain http. */
  certPem: string | undefined;
  /** Backdoor for tests. */
  state: AzureState;
  /** Backdoor for tests: the tokens the vault accepts, and identities it denies. */
  tokens: AzureTokens;
  /** The emulated Entra ID tenant, when `entra` was given. */
  entra: EntraTenant | undefined;
}

const PAGE = 25;

type Json = Record<string, unknown>;

/** Key Vault's REST API for secrets, as @azure/keyvault-secrets calls it. */
export async function startAzureEmulator(options: AzureEmulatorOptions = {}): Promise<AzureEmulator> {
  const softDeleteDays = options.softDeleteDays ?? 90;
  if (!Number.isInteger(softDeleteDays) || softDeleteDays < 7 || softDeleteDays > 90)
    throw new Error('softDeleteDays must be a whole number from 7 to 90');
  const state = new AzureState({
    purgeProtection: options.purgeProtection ?? false,
    softDeleteDays,
    purgeBusyMs: options.purgeBusyMs ?? 300,
    recoverBusyMs: options.recoverBusyMs ?? 300,
  });
  const tenant = options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const tokens: AzureTokens = { accepted: new Set(options.acceptedTokens ?? []), denied: new Set() };
  const entra = options.entra ? new EntraTenant(tenant, options.entra) : undefined;
  let tls: { key: string; cert: string } | undefined;
  if (options.https !== false) {
    tls = await selfSignedLoopback();
  }
  const quota =
    options.transactionQuota === true
      ? new WindowQuota(KEY_VAULT_TRANSACTIONS.limit, KEY_VAULT_TRANSACTIONS.windowMs)
      : options.transactionQuota || undefined;
  let base = '';
  const recoveryLevel = () => (state.options.purgeProtection ? 'Recoverable' : 'Recoverable+Purgeable');
  const attributes = (v: AzureVersion) => ({
    enabled: v.enabled,
    created: v.created,
    updated: v.updated,
    recoveryLevel: recoveryLevel(),
    recoverableDays: state.options.softDeleteDays,
  });
  const item = (s: AzureSecret, v: AzureVersion, withVersion = true): Json => ({
    id: `${base}/secrets/${s.name}${withVersion ? `/${v.id}` : ''}`,
    attributes: attributes(v),
    tags: v.tags,
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
  });
  const bundle = (s: AzureSecret, v: AzureVersion, withValue: boolean): Json => ({
    ...(withValue ? { value: v.value } : {}),
    ...item(s, v),
  });
  const newest = (s: AzureSecret) => [...s.versions.values()].sort((a, b) => b.seq - a.seq)[0];
  const deletedBundle = (d: DeletedSecret): Json => {
    const latest = newest(d.secret);
    return {
      ...(latest ? bundle(d.secret, latest, false) : { id: `${base}/secrets/${d.secret.name}` }),
      recoveryId: `${base}/deletedsecrets/${d.secret.name}`,
      deletedDate: d.deletedDate,
      scheduledPurgeDate: d.scheduledPurgeDate,
    };
  };
  const page = (url: URL, all: Json[]): Json => {
    const max = Number(url.searchParams.get('maxresults') ?? PAGE);
    if (!Number.isInteger(max) || max < 1 || max > PAGE)
      throw new AzureError(400, 'BadParameter', `maxresults must be between 1 and ${PAGE}`);
    const start = Number(url.searchParams.get('$skiptoken') ?? 0);
    const next = new URL(url.pathname, base);
    next.searchParams.set('api-version', url.searchParams.get('api-version') ?? '');
    next.searchParams.set('$skiptoken', String(start + max));
    next.searchParams.set('maxresults', String(max));
    return {
      value: all.slice(start, start + max),
      nextLink: start + max < all.length ? next.toString() : null,
    };
  };

  const route = (method: string, parts: string[], url: URL, body: Json): [number, Json | undefined] => {
    const [collection, rawName, sub, extra] = parts;
    const name = decodeURIComponent(rawName ?? '');
    if (collection === 'secrets' && rawName === undefined && method === 'GET') {
      const all = [...state.secrets.values()]
        .map((s) => [s, newest(s)] as const)
        .filter((pair): pair is readonly [AzureSecret, AzureVersion] => pair[1] !== undefined)
        .sort(([a], [b]) => a.name.localeCompare(b.name))
        .map(([s, v]) => item(s, v, false));
      return [200, page(url, all)];
    }
    if (collection === 'secrets' && rawName !== undefined && extra === undefined) {
      if (method === 'PUT' && sub === undefined) {
        if (typeof body.value !== 'string')
          throw new AzureError(400, 'BadParameter', 'Property value is required.');
        const attrs = (body.attributes ?? {}) as Json;
        const { secret, version } = state.set(name, {
          value: body.value,
          contentType: typeof body.contentType === 'string' ? body.contentType : undefined,
          enabled: typeof attrs.enabled === 'boolean' ? attrs.enabled : undefined,
          tags: (body.tags ?? undefined) as Record<string, string> | undefined,
        });
        return [200, bundle(secret, version, true)];
      }
      if (method === 'DELETE' && sub === undefined) return [200, deletedBundle(state.delete(name))];
      if (method === 'GET' && sub === 'versions') {
        const secret = state.find(name);
        // Azure lists versions in no particular order; sorting by the random id shows that.
        const all = [...secret.versions.values()]
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((v) => item(secret, v));
        return [200, page(url, all)];
      }
      if (method === 'GET') {
        const version = state.version(name, sub);
        if (!version.enabled) {
          throw new AzureError(
            403,
            'Forbidden',
            'Operation get is not allowed on a disabled secret.',
            'SecretDisabled',
          );
        }
        return [200, bundle(state.find(name), version, true)];
      }
      if (method === 'PATCH' && sub) {
        const attrs = (body.attributes ?? {}) as Json;
        const version = state.update(name, sub, {
          enabled: typeof attrs.enabled === 'boolean' ? attrs.enabled : undefined,
          tags: (body.tags ?? undefined) as Record<string, string> | undefined,
          contentType: typeof body.contentType === 'string' ? body.contentType : undefined,
        });
        return [200, bundle(state.find(name), version, false)];
      }
    }
    if (collection === 'deletedsecrets') {
      if (rawName === undefined && method === 'GET')
        return [200, page(url, [...state.deleted.values()].map(deletedBundle))];
      if (method === 'GET' && sub === undefined) return [200, deletedBundle(state.findDeleted(name))];
      if (method === 'DELETE' && sub === undefined) {
        state.purge(name);
        return [204, undefined];
      }
      if (method === 'POST' && sub === 'recover') {
        const secret = state.recover(name);
        const latest = newest(secret);
        return [200, latest ? bundle(secret, latest, false) : {}];
      }
    }
    throw new AzureError(405, 'MethodNotAllowed', `${method} ${url.pathname} is not supported`);
  };

  const error = (res: ServerResponse, status: number, code: string, message: string, inner?: string) =>
    sendJson(res, status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } });

  // Key Vault's 401 carries the bearer challenge; the SDK's first request (no token, no body)
  // learns the tenant from it.
  const unauthorized = (res: ServerResponse, message: string) => {
    res.setHeader(
      'WWW-Authenticate',
      `Bearer authorization="https://login.microsoftonline.com/${tenant}", resource="https://vault.azure.net"`,
    );
    return error(res, 401, 'Unauthorized', message);
  };

  const handler = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const url = new URL(req.url ?? '/', base);
    // Entra ID's endpoints take no bearer token: they issue them.
    if (entra?.handle(req.method ?? 'GET', url, base, raw, res)) return;
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ') || auth.length <= 'Bearer '.length)
      return unauthorized(res, 'AKV10000: Request is missing a Bearer or PoP token.');
    const presented = auth.slice('Bearer '.length);
    if (tokens.accepted.size > 0 && !tokens.accepted.has(presented) && !tokens.denied.has(presented))
      return error(res, 401, 'Unauthorized', 'AKV10032: Invalid issuer.');
    if (entra && !tokens.denied.has(presented) && !entra.valid(presented)) {
      // An expired token of this tenant, or one it never issued.
      return unauthorized(
        res,
        entra.issued.has(presented) ? 'Token has expired.' : 'AKV10032: Invalid issuer.',
      );
    }
    if (tokens.denied.has(presented))
      return error(
        res,
        403,
        'Forbidden',
        'Caller is not authorized to perform action on resource. Caller: appid=00000000-0000-0000-0000-000000000000',
        'ForbiddenByRbac',
      );
    if (quota && !quota.take()) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(quota.retryAfterMs() / 1000))));
      return error(
        res,
        429,
        'Throttled',
        'Request was not processed because too many requests were received.',
      );
    }
    if (!url.searchParams.get('api-version'))
      return error(res, 400, 'BadParameter', 'The api-version query parameter is missing.');
    let body: Json = {};
    try {
      if (raw.length) body = JSON.parse(raw.toString('utf8')) as Json;
    } catch {
      return error(res, 400, 'BadParameter', 'The request body is not valid JSON.');
    }
    const parts = url.pathname.split('/').slice(1);
    if (parts.length > 1 && parts.at(-1) === '') parts.pop(); // `/secrets/{n}/` is the latest version
    try {
      const [status, answer] = route(req.method ?? 'GET', parts, url, body);
      if (answer === undefined) {
        res.writeHead(status);
        res.end();
      } else sendJson(res, status, answer);
    } catch (e) {
      if (e instanceof AzureError) return error(res, e.status, e.code, e.message, e.inner);
      throw e;
    }
  };

  const server = await startHttpEmulator(handler, {
    port: options.port,
    host: options.host,
    tls,
    renderThrottle: (res, fault) =>
      sendJson(
        res,
        429,
        {
          error: {
            code: 'Throttled',
            message: 'Request was not processed because too many requests were received.',
          },
        },
        { 'Retry-After': String(fault.retryAfterSeconds ?? 1) },
      ),
    renderServerError: (res, status) =>
      sendJson(res, status, { error: { code: 'InternalServerError', message: 'Internal server error.' } }),
  });
  base = server.url;
  if (options.latencyMs) server.faults.setLatency(options.latencyMs);
  return {
    url: server.url,
    vaultUrl: server.url,
    certPem: tls?.cert,
    faults: server.faults,
    state,
    tokens,
    entra,
    info: {
      vaultUrl: server.url,
      purgeProtection: state.options.purgeProtection,
      ...(tls ? { certPem: tls.cert } : {}),
      ...(entra ? { authorityHost: server.url, tenantId: tenant } : {}),
    },
    stop: server.stop,
  };
}

export async function startFromFlags(flags: CliFlags): Promise<AzureEmulator> {
  const num = (name: string) => (typeof flags[name] === 'string' ? Number(flags[name]) : undefined);
  const emu = await startAzureEmulator({
    port: num('port'),
    host: typeof flags.host === 'string' ? flags.host : undefined,
    purgeProtection: flags['purge-protection'] === true || flags['purge-protection'] === 'true',
    softDeleteDays: num('soft-delete-days'),
    purgeBusyMs: num('purge-busy-ms'),
    recoverBusyMs: num('recover-busy-ms'),
    https: !(flags.http === true || flags.https === 'false'),
    transactionQuota: flags['transaction-quota'] === true || flags['transaction-quota'] === 'true',
    tenantId: typeof flags['tenant-id'] === 'string' ? flags['tenant-id'] : undefined,
    ...(typeof flags['client-id'] === 'string' && typeof flags['client-secret'] === 'string'
      ? {
          entra: {
            clientId: flags['client-id'],
            clientSecret: flags['client-secret'],
            tokenLifetimeSeconds: num('token-lifetime-seconds'),
          },
        }
      : {}),
  });
  // For shells: a file to hand to SGW_AZURE_CA_FILE or NODE_EXTRA_CA_CERTS.
  if (typeof flags['cert-file'] === 'string' && emu.certPem) {
    writeFileSync(flags['cert-file'], emu.certPem);
    emu.info.certFile = flags['cert-file'];
  }
  return emu;
}
