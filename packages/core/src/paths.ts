import { InvalidPathError } from './errors.ts';

/** TrueFoundry's fixed mount path. */
export const DEFAULT_ROOT = 'tfy-secret';
export const MAX_PATH_BYTES = 1024;
export const MAX_SEGMENT_LENGTH = 255;

const SEGMENT_CHARS = /^[A-Za-z0-9_.-]+$/;
const BAD_CHAR = /[^A-Za-z0-9_.-]/;
/** Segments of allowed characters, each 1-255 long: all of §2 but `.`/`..` segments and total length. */
const WELL_FORMED = /^[A-Za-z0-9_.-]{1,255}(?:\/[A-Za-z0-9_.-]{1,255})*$/;
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

export interface PathRules {
  /** Root every secret path lives under; one or more segments, default `tfy-secret`. */
  root?: string;
}

function checkSegment(segment: string, index: number): void {
  if (segment.length === 0) throw new InvalidPathError('path must not contain empty segments (no "//")');
  if (segment === '.' || segment === '..')
    throw new InvalidPathError('path must not contain "." or ".." segments');
  if (segment.length > MAX_SEGMENT_LENGTH) {
    throw new InvalidPathError(
      `path must have segments of at most ${MAX_SEGMENT_LENGTH} characters (segment ${index + 1} has ${segment.length})`,
    );
  }
  if (!SEGMENT_CHARS.test(segment)) {
    const bad = BAD_CHAR.exec(segment)?.[0] ?? '';
    if (bad === '%') {
      throw new InvalidPathError('path must not contain percent-encoded characters ("%" is not allowed)');
    }
    throw new InvalidPathError(
      `path must use only A-Z a-z 0-9 _ - . in a segment (found ${JSON.stringify(bad)} in segment ${index + 1})`,
    );
  }
}

/** Validates a configured root (same segment rules as paths). */
export function validateRoot(root: string): string {
  if (root.length === 0 || root.startsWith('/') || root.endsWith('/')) {
    throw new InvalidPathError(
      'path must have a root of one or more segments without leading or trailing "/"',
    );
  }
  for (const [i, segment] of root.split('/').entries()) checkSegment(segment, i);
  return root;
}

/**
 * Checks a secret path against every rule of contract.md §2 and returns it unchanged. Throws
 * InvalidPathError whose message starts with "path must" and names the rule that was broken.
 */
export function parseSecretPath(input: unknown, root: string = DEFAULT_ROOT): string {
  // Every read checks its path, so the common case is two regex tests; the rule-by-rule walk below
  // runs only for paths that fail them, to name the rule that was broken. The allowed characters
  // are ASCII, so a well-formed path's length is its byte length.
  if (
    typeof input === 'string' &&
    input.length <= MAX_PATH_BYTES &&
    input.length > root.length + 1 &&
    input.charCodeAt(root.length) === 47 &&
    input.startsWith(root) &&
    WELL_FORMED.test(input) &&
    !DOT_SEGMENT.test(input)
  ) {
    return input;
  }
  if (typeof input !== 'string') throw new InvalidPathError('path must be a string');
  if (input.length === 0) throw new InvalidPathError('path must not be empty');
  if (Buffer.byteLength(input, 'utf8') > MAX_PATH_BYTES) {
    throw new InvalidPathError(`path must be at most ${MAX_PATH_BYTES} bytes`);
  }
  if (input.startsWith('/')) throw new InvalidPathError('path must not start with "/"');
  if (input.endsWith('/')) throw new InvalidPathError('path must not end with "/"');
  if (input === root) throw new InvalidPathError(`path must have at least one segment below ${root}/`);
  if (!input.startsWith(`${root}/`)) throw new InvalidPathError(`path must start with ${root}/`);
  const below = input.slice(root.length + 1).split('/');
  for (const [i, segment] of below.entries()) checkSegment(segment, i);
  return input;
}

/** `acme:prod:db-password` -> `tfy-secret/acme/prod/db-password` (validated). */
export function fqnToPath(fqn: string, root: string = DEFAULT_ROOT): string {
  if (typeof fqn !== 'string' || fqn.length === 0)
    throw new InvalidPathError('path must come from a non-empty FQN');
  if (fqn.includes('/')) throw new InvalidPathError('path must come from an FQN without "/" (use ":")');
  return parseSecretPath(`${root}/${fqn.split(':').join('/')}`, root);
}

/** `tfy-secret/acme/prod/db-password` -> `acme:prod:db-password`. */
export function pathToFqn(path: string, root: string = DEFAULT_ROOT): string {
  return parseSecretPath(path, root)
    .slice(root.length + 1)
    .split('/')
    .join(':');
}
