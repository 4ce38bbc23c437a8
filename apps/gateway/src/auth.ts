import { hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { KeyConfig, Operation } from './config.ts';
import { ensureKeyFile } from './key-file.ts';

/** SHA-256 of a key as lower-case hex, one-shot: no Hash object and no Buffer (it runs on every request). */
export const sha256Hex = (value: string): string => hash('sha256', value, 'hex');

/** Who a request authenticated as, and what it may do. */
export interface Principal {
  name: string;
  operations: ReadonlySet<Operation>;
  /** Path prefixes it may touch, each a whole-segment prefix; undefined = every path. */
  prefixes: readonly string[] | undefined;
}

interface StoredKey extends Principal {
  /** SHA-256 of the key (or of the Basic password), lower-case hex. */
  digest: string;
  /** Set for Basic credentials: the user name they are presented with. */
  basicUser: string | undefined;
}

/** `Authorization: Bearer <key>`: the scheme is case-insensitive (RFC 9110 §11.1). */
export const BEARER = /^bearer +/i;
const BASIC = /^basic +/i;

/**
 * The configured credentials, kept only as SHA-256 digests: API keys, presented in the configured
 * header as the bare key or as `Bearer <key>`, and Basic credentials (`Authorization: Basic
 * base64(user:password)`, TrueFoundry's "Custom Basic Auth"). A presented key is hashed once and
 * compared with every key in constant time (no early exit), so timing reveals neither which key
 * matched nor how much of one did. Several keys may be valid at once: that is how a key is rotated.
 */
export class KeyStore {
  readonly headerName: string;
  readonly #keys: StoredKey[];
  readonly #basic: StoredKey[];
  /** Per connection, the last credential that authenticated on it (see `authenticate`). */
  readonly #lastOn = new WeakMap<object, { presented: string; principal: Principal }>();

  constructor(headerName: string, keys: KeyConfig[]) {
    if (keys.length === 0) throw new Error('at least one API key is needed');
    this.headerName = headerName.toLowerCase();
    const stored = keys.map((k) => ({
      name: k.name,
      digest: (k.sha256 ?? sha256Hex(k.key as string)).toLowerCase(),
      operations: new Set(k.operations),
      prefixes: k.prefixes?.map((p) => p.replace(/\/+$/, '')),
      basicUser: k.basicUser,
    }));
    this.#keys = stored.filter((k) => k.basicUser === undefined);
    this.#basic = stored.filter((k) => k.basicUser !== undefined);
  }

  get names(): string[] {
    return [...this.#keys, ...this.#basic].map((k) => k.name);
  }

  /**
   * The principal a request's credentials belong to, or undefined. With a `connection` (the
   * socket), the last credential that authenticated on it is remembered, so a keep-alive client is
   * not hashed again on every request (the hash and comparisons were about 2 us of a 20 us cached
   * GET). Only the same header value matches it, compared in constant time, so a proxy that sends
   * several clients down one connection does not let one learn another's key from timing. Failed
   * credentials are never remembered, and the memo goes with the connection.
   */
  authenticate(headers: IncomingHttpHeaders, connection?: object): Principal | undefined {
    const basic = this.#basic.length > 0 ? headers.authorization : undefined;
    const viaBasic = typeof basic === 'string' && BASIC.test(basic);
    const presented = viaBasic ? basic : headers[this.headerName];
    if (typeof presented !== 'string') return undefined;
    const last = connection === undefined ? undefined : this.#lastOn.get(connection);
    if (last !== undefined && sameText(presented, last.presented)) return last.principal;
    const found = viaBasic ? this.#basicUser(presented) : this.#apiKey(presented);
    if (found !== undefined && connection !== undefined) {
      this.#lastOn.set(connection, { presented, principal: found });
    }
    return found;
  }

  #apiKey(presented: string): Principal | undefined {
    const digest = sha256Hex(BEARER.test(presented) ? presented.replace(BEARER, '') : presented);
    let found: StoredKey | undefined;
    for (const key of this.#keys) if (sameText(digest, key.digest) && !found) found = key;
    return found;
  }

  #basicUser(header: string): Principal | undefined {
    const decoded = Buffer.from(header.replace(BASIC, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const digest = sha256Hex(decoded.slice(colon + 1));
    let found: StoredKey | undefined;
    for (const key of this.#basic) {
      // Both comparisons always run: which part was wrong does not show in the timing.
      const same = sameText(user, key.basicUser as string) && sameText(digest, key.digest);
      if (same && !found) found = key;
    }
    return found;
  }
}

/**
 * Equality of a presented text with a known one (not empty), in time that depends only on the
 * presented text's length: every character is compared, whatever differs first (the guarantee of
 * crypto.timingSafeEqual, without making two Buffers). Used for digests and remembered keys alike.
 */
export function sameText(presented: string, known: string): boolean {
  let diff = presented.length ^ known.length;
  for (let i = 0; i < presented.length; i++) {
    diff |= presented.charCodeAt(i) ^ known.charCodeAt(i % known.length);
  }
  return diff === 0;
}

/** Is `path` the prefix itself or below it, whole segments only (`a/prod` does not cover `a/prod-evil`)? */
export function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47);
}

/** May `principal` do `operation` on `path`? The root connectivity check needs only `read`. */
export function allows(principal: Principal, operation: Operation, path: string | undefined): boolean {
  if (!principal.operations.has(operation)) return false;
  if (principal.prefixes === undefined || path === undefined) return true;
  return principal.prefixes.some((prefix) => underPrefix(path, prefix));
}

export interface ResolvedKey {
  key: string;
  file: string;
  generated: boolean;
}

/** `<dataDir>/api-key`, generated with mode 0600 on first start when no key is configured. */
export function resolveGeneratedKey(dataDir: string): ResolvedKey {
  const file = join(dataDir, 'api-key');
  const { text: key, generated } = ensureKeyFile(file, 'base64url');
  if (key.length < 16) throw new Error(`${file} must hold an API key of at least 16 characters`);
  return { key, file, generated };
}

export interface FailedAuthOptions {
  maxFailures: number;
  windowSeconds: number;
  lockoutSeconds: number;
  delayMs: number;
  now?: () => number;
  /** Most client addresses tracked at once; the oldest are forgotten first. */
  maxClients?: number;
}

/** What the limiter says about one failed attempt. */
export interface FailureVerdict {
  /** Milliseconds to hold the answer back. */
  delayMs: number;
  /** Seconds the address stays throttled (answer 429 with this Retry-After), or 0 (answer 401). */
  throttledFor: number;
  /** This failure is the one that throttled the address (log it once). */
  newlyThrottled: boolean;
}

/**
 * Slows, then refuses, clients that keep presenting wrong credentials. It only ever sees failures:
 * a valid key is always served, whatever its address did before, because TrueFoundry's control
 * plane (and every client behind an ingress) shares one address, and one stale client must not
 * lock the rest out. Each failure adds a delay (doubling, at most 2 s); `maxFailures` within the
 * window throttles the address: its wrong-key attempts get 429 with Retry-After until it ends.
 */
export class FailedAuthLimiter {
  readonly #options: Required<FailedAuthOptions>;
  readonly #clients = new Map<string, { failures: number; windowStart: number; lockedUntil: number }>();

  constructor(options: FailedAuthOptions) {
    this.#options = { now: Date.now, maxClients: 100_000, ...options };
  }

  /** Seconds the client's failures are still throttled for, or 0. */
  lockedFor(client: string): number {
    const state = this.#clients.get(client);
    if (!state) return 0;
    const left = state.lockedUntil - this.#options.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Records a failed attempt from `client` and says how to answer it. */
  fail(client: string): FailureVerdict {
    const { now, windowSeconds, maxFailures, lockoutSeconds, delayMs, maxClients } = this.#options;
    const locked = this.lockedFor(client);
    // Throttled attempts are held back as long as any: guessing stays slow.
    if (locked > 0) return { delayMs: delayMs > 0 ? 2000 : 0, throttledFor: locked, newlyThrottled: false };
    const t = now();
    let state = this.#clients.get(client);
    if (!state || t - state.windowStart > windowSeconds * 1000) {
      this.#clients.delete(client);
      state = { failures: 0, windowStart: t, lockedUntil: 0 };
      this.#clients.set(client, state);
      if (this.#clients.size > maxClients) this.#clients.delete(this.#clients.keys().next().value as string);
    }
    state.failures++;
    const delay = Math.min(2000, delayMs * 2 ** (state.failures - 1));
    if (state.failures >= maxFailures) {
      state.lockedUntil = t + lockoutSeconds * 1000;
      state.windowStart = state.lockedUntil;
      state.failures = 0;
      return { delayMs: delay, throttledFor: lockoutSeconds, newlyThrottled: true };
    }
    return { delayMs: delay, throttledFor: 0, newlyThrottled: false };
  }
}
