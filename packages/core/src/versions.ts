import { InvalidVersionError } from './errors.ts';

/**
 * The version semantics of contract.md §3, as pure functions. SecretService applies them at the API
 * edge; adapters whose backend has no native integer versions (AWS, Azure) build on the helpers below
 * so every backend numbers and resolves versions the same way.
 */

const VERSION_TEXT = /^[1-9][0-9]{0,15}$/;

/** A version from a query string: a decimal string `^[1-9][0-9]{0,15}$` that fits a safe integer. */
export function parseVersionText(input: unknown): number {
  if (typeof input !== 'string' || !VERSION_TEXT.test(input)) {
    throw new InvalidVersionError('version must be a positive integer written in decimal digits');
  }
  const n = Number(input);
  if (!Number.isSafeInteger(n)) throw new InvalidVersionError('version must be at most 9007199254740991');
  return n;
}

/** A version from a JSON body: a positive safe integer, or the same string form as a query. */
export function parseVersionInput(input: unknown): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 1) {
      throw new InvalidVersionError('version must be a positive integer');
    }
    return input;
  }
  return parseVersionText(input);
}

export interface VersionState {
  version: number;
  /** Deleted through the gateway (or destroyed/disabled in the backend): never served again. */
  deleted: boolean;
}

/** Latest = the highest version that is not deleted (rule 2); undefined when none is live. */
export function latestLiveVersion(versions: Iterable<VersionState>): number | undefined {
  let latest: number | undefined;
  for (const v of versions)
    if (!v.deleted && (latest === undefined || v.version > latest)) latest = v.version;
  return latest;
}

/**
 * The next version to hand out: one above the highest ever created, deleted or not, so a deleted
 * number is never reused (rule 3). An empty history starts at 1 (rule 1 and rule 4).
 */
export function nextVersion(versions: Iterable<VersionState>): number {
  let max = 0;
  for (const v of versions) if (v.version > max) max = v.version;
  return max + 1;
}

/** UTF-8 size of a value, the unit of every size limit. */
export function valueBytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}
