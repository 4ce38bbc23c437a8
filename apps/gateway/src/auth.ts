import { hash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyConfig, Operation } from './config.ts';

/** SHA-256 of a key as lower-case hex, one-shot: no Hash object and no Buffer (it runs on every request). */
export const sha256Hex = (value: string): string => hash('sha256', value, 'hex');

/** Who a request authenticated as, and what it may do. */
export interface Principal {
  name: string;
  operations: ReadonlySet<Operation>;
  /** Path prefixes it may touch; undefined = every path. */
  prefixes: readonly string[] | undefined;
}

interface StoredKey extends Principal {
  /** SHA-256 of the key, lower-case hex. */
  digest: string;
}

/**
 * The configured API keys, kept only as SHA-256 digests. A presented value is hashed once and
 * compared with every key in constant time (no early exit), so timing reveals neither which key
 * matched nor how much of one did. Several keys may be valid at once: that is how a key is rotated.
 */
export class KeyStore {
  readonly headerName: string;
  readonly #keys: StoredKey[];
  /** Per connection, the last key that authenticated on it (see `authenticate`). */
  readonly #lastOn = new WeakMap<object, { presented: string; principal: Principal }>();

  constructor(headerName: string, keys: KeyConfig[]) {
    if (keys.length === 0) throw new Error('at least one API key is needed');
    this.headerName = headerName.toLowerCase();
    this.#keys = keys.map((k) => ({
      name: k.name,
      digest: (k.sha256 ?? sha256Hex(k.key as string)).toLowerCase(),
      operations: new Set(k.operations),
      prefixes: k.prefixes,
    }));
  }

  get names(): string[] {
    return this.#keys.map((k) => k.name);
  }

  /**
   * The principal a presented key belongs to, or undefined. With a `connection` (the socket), the
   * last key that authenticated on it is remembered, so a keep-alive client is not hashed again
   * on every request (the hash and comparisons were about 2 us of a 20 us cached GET). Only the
   * same key matches it, compared in constant time, so a proxy that sends several clients down
   * one connection does not let one learn another's key from timing. Failed keys are never
   * remembered, and the memo goes with the connection.
   */
  authenticate(presented: string | string[] | undefined, connection?: object): Principal | undefined {
    if (typeof presented !== 'string') return undefined;
    const last = connection === undefined ? undefined : this.#lastOn.get(connection);
    if (last !== undefined && sameText(presented, last.presented)) return last.principal;
    const digest = sha256Hex(presented);
    let found: StoredKey | undefined;
    for (const key of this.#keys) if (sameText(digest, key.digest) && !found) found = key;
    if (found !== undefined && connection !== undefined) {
      this.#lastOn.set(connection, { presented, principal: found });
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

/** May `principal` do `operation` on `path`? The root connectivity check needs only `read`. */
export function allows(principal: Principal, operation: Operation, path: string | undefined): boolean {
  if (!principal.operations.has(operation)) return false;
  if (principal.prefixes === undefined || path === undefined) return true;
  return principal.prefixes.some((prefix) => path.startsWith(prefix));
}

export interface ResolvedKey {
  key: string;
  file: string;
  generated: boolean;
}

/** `<dataDir>/api-key`, generated with mode 0600 on first start when no key is configured. */
export function resolveGeneratedKey(dataDir: string): ResolvedKey {
  const file = join(dataDir, 'api-key');
  let generated = false;
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
      generated = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  const key = readFileSync(file, 'utf8').trim();
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

/**
 * Slows, then refuses, clients that keep presenting wrong keys. Each failure adds a delay to the
 * 401 (doubling, at most 2 s); `maxFailures` within the window locks the address out: every request
 * from it gets 429 with Retry-After until the lockout ends, valid key or not, so guessing stops.
 * Successful requests are never counted.
 */
export class FailedAuthLimiter {
  readonly #options: Required<FailedAuthOptions>;
  readonly #clients = new Map<string, { failures: number; windowStart: number; lockedUntil: number }>();

  constructor(options: FailedAuthOptions) {
    this.#options = { now: Date.now, maxClients: 100_000, ...options };
  }

  /** Seconds the client is still locked out for, or 0. */
  lockedFor(client: string): number {
    const state = this.#clients.get(client);
    if (!state) return 0;
    const left = state.lockedUntil - this.#options.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Records a failure; returns the delay (ms) to add to the 401, or -1 when now locked out. */
  fail(client: string): number {
    const { now, windowSeconds, maxFailures, lockoutSeconds, delayMs, maxClients } = this.#options;
    const t = now();
    let state = this.#clients.get(client);
    if (!state || t - state.windowStart > windowSeconds * 1000) {
      this.#clients.delete(client);
      state = { failures: 0, windowStart: t, lockedUntil: 0 };
      this.#clients.set(client, state);
      if (this.#clients.size > maxClients) this.#clients.delete(this.#clients.keys().next().value as string);
    }
    state.failures++;
    if (state.failures >= maxFailures) {
      state.lockedUntil = t + lockoutSeconds * 1000;
      state.windowStart = state.lockedUntil;
      state.failures = 0;
      return -1;
    }
    return Math.min(2000, delayMs * 2 ** (state.failures - 1));
  }
}
