import { hashPath } from '@secret-gateway/core';

/**
 * Gateway path -> Secret Manager secret id (`[A-Za-z0-9_-]`, at most 255). Letters, digits and `-`
 * stay; every other character becomes `_` plus two hex digits (`/` -> `_2f`, `.` -> `_2e`,
 * `_` -> `_5f`), so `_` never appears raw and the encoding is reversible and collision-free, case
 * included. An id that would pass 255 characters becomes `_x` plus the base32 SHA-256 of the path
 * (the encoder never writes `_x`), with the path itself kept in the `sgw-path` annotation.
 */
export const MAX_ID = 255;
export const PATH_ANNOTATION = 'sgw-path';

export function encodePath(path: string): string {
  let out = '';
  for (const ch of path) {
    out += /[A-Za-z0-9-]/.test(ch) ? ch : `_${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function decodePath(id: string): string {
  return id.replace(/_([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

export function secretId(path: string): string {
  const encoded = encodePath(path);
  return encoded.length <= MAX_ID ? encoded : `_x${hashPath(path)}`;
}

export function isHashedId(id: string): boolean {
  return id.startsWith('_x');
}
