/**
 * The small toolkit every adapter uses, so each mechanism exists once: the gateway-wide settings an
 * adapter receives, an operation's time budget, the race against an abort signal, an abortable
 * sleep, and the one boolean parser for environment variables. Pure Node: no SDK is imported here.
 */

/** The gateway-wide settings handed to every adapter, resolved once from the file and environment. */
export interface GatewaySettings {
  /** The gateway's data directory (`SGW_DATA_DIR`), absolute, for backends that keep local files. */
  readonly dataDir: string;
  /** The path root (`SGW_ROOT`, `root`). */
  readonly root: string;
  /** The deadline of one backend call, SDK retries included (`SGW_BACKEND_TIMEOUT_MS`). */
  readonly backendTimeoutMs: number;
  /**
   * Tells the operator something the adapter found (a development-only credential, a token that
   * cannot be renewed); the gateway logs it at warn level. Never pass a secret to it.
   */
  readonly warn?: (message: string) => void;
}

/**
 * The gateway's default deadline, for adapters built without a gateway (tests, libraries); the
 * default root is paths.ts's DEFAULT_ROOT.
 */
export const DEFAULT_BACKEND_TIMEOUT_MS = 5000;

/**
 * One adapter operation's time budget: every backend call it makes, SDK retries included, ends by
 * the same deadline. `signal` fires at that deadline or when the caller (SecretService) aborts.
 */
export interface Budget {
  readonly signal: AbortSignal;
  /** Milliseconds left of the budget; 0 once it has passed. */
  remainingMs(): number;
}

/**
 * Starts a budget of `timeoutMs` for one operation. `marginMs` ends it that much earlier, so the
 * adapter's own, more precise error is reported before the caller's deadline fires.
 */
export function operationBudget(timeoutMs: number, callerSignal?: AbortSignal, marginMs = 0): Budget {
  const ms = Math.max(0, timeoutMs - marginMs);
  const deadline = Date.now() + ms;
  const own = AbortSignal.timeout(ms);
  return {
    signal: callerSignal ? AbortSignal.any([callerSignal, own]) : own,
    remainingMs: () => Math.max(0, deadline - Date.now()),
  };
}

/**
 * Settles with `promise`, or rejects with `onAbort()` as soon as `signal` fires (at once when it
 * already has). The losing promise's later rejection is absorbed, never left unhandled.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: () => unknown = () => signal?.reason,
): Promise<T> {
  promise.catch(() => undefined);
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(onAbort());
  let listener: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    listener = () => reject(onAbort());
    signal.addEventListener('abort', listener, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', listener));
}

/** Waits `ms`; ends early with `onAbort()` (default: the signal's reason) when `signal` fires. */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  onAbort: () => unknown = () => signal?.reason,
): Promise<void> {
  if (!signal) return new Promise((resolve) => setTimeout(resolve, ms));
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      reject(onAbort());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done);
      resolve();
    }, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The spellings of a boolean setting, everywhere in the gateway (case-insensitive). */
export const BOOLEAN_SPELLINGS = 'true, false, 1 or 0';

/** `true`/`1` and `false`/`0`, case-insensitive; undefined for anything else. */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.toLowerCase();
  if (word === 'true' || word === '1') return true;
  if (word === 'false' || word === '0') return false;
  return undefined;
}

/** A boolean environment variable: unset or empty gives `fallback`; a bad spelling names the variable. */
export function envBoolean(
  env: Record<string, string | undefined>,
  name: string,
  fallback: boolean,
): boolean {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = parseBoolean(text);
  if (value === undefined)
    throw new Error(`${name} must be ${BOOLEAN_SPELLINGS} (got ${JSON.stringify(text)})`);
  return value;
}

/** A whole-number environment variable in [min, max]: unset or empty gives undefined. */
export function envInteger(
  env: Record<string, string | undefined>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  return n;
}
