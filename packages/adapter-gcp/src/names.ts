import { hashPath } from '@secret-gateway/core';

/**
 * Gateway path <-> Secret Manager secret id (`[A-Za-z0-9_-]`, 1-255 characters, case-sensitive).
 *
 * Letters, digits and `-` stay as they are; every other UTF-8 byte becomes `_` plus two lower-case
 * hex digits (`/` -> `_2f`, `.` -> `_2e`, `_` -> `_5f`). `_` is the escape character and never
 * appears raw, so the mapping is reversible and collision-free, case included, for any string.
 *
 * An id that would pass 255 characters becomes `_x` plus the base32 SHA-256 of the path (54
 * characters). The encoder never writes `_x` (an escape is always followed by a hex digit), so hashed
 * ids cannot collide with encoded ones. The original path is kept in the `sgw-path` annotation (a
 * label value is at most 63 lower-case characters, too small for a path) and the secret carries the
 * label `sgw-hashed=true` so an operator can list them.
 */
export const MAX_ID = 255;
export const HASHED_PREFIX = '_x';
export const PATH_ANNOTATION = 'sgw-path';
export const HASHED_LABEL = 'sgw-hashed';
/** On every secret the gateway creates. */
export const MANAGED_LABEL = { 'managed-by': 'secret-gateway' } as const;

const RAW = /^[A-Za-z0-9-]$/;

export function encodePath(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += RAW.test(ch) ? ch : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Inverse of encodePath; throws on anything encodePath cannot have produced (e.g. a hashed id). */
export function decodePath(id: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < id.length; i++) {
    const ch = id[i] as string;
    if (ch === '_') {
      const hex = id.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) throw new Error(`not an encoded gateway path: ${id}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (RAW.test(ch)) bytes.push(ch.charCodeAt(0));
    else throw new Error(`not an encoded gateway path: ${id}`);
  }
  return Buffer.from(bytes).toString('utf8');
}

export function secretId(path: string): string {
  const encoded = encodePath(path);
  return encoded.length <= MAX_ID ? encoded : `${HASHED_PREFIX}${hashPath(path)}`;
}

export function isHashedId(id: string): boolean {
  return id.startsWith(HASHED_PREFIX);
}

/** `projects/P/secrets/ID` for a path. */
export function secretName(projectId: string, path: string): string {
  return `projects/${projectId}/secrets/${secretId(path)}`;
}

/** Labels and annotations for a new secret: the hashed ones keep their path. */
export function secretMetadata(
  path: string,
  extraLabels: Record<string, string> = {},
): { labels: Record<string, string>; annotations: Record<string, string> } {
  const hashed = isHashedId(secretId(path));
  return {
    labels: { ...extraLabels, ...MANAGED_LABEL, ...(hashed ? { [HASHED_LABEL]: 'true' } : {}) },
    annotations: hashed ? { [PATH_ANNOTATION]: path } : {},
  };
}

/** The gateway path a secret stands for (the reverse mapping), from its id and annotations. */
export function pathOfSecret(id: string, annotations: Record<string, string> = {}): string {
  if (!isHashedId(id)) return decodePath(id);
  const path = annotations[PATH_ANNOTATION];
  if (path === undefined) throw new Error(`hashed secret ${id} has no ${PATH_ANNOTATION} annotation`);
  return path;
}
