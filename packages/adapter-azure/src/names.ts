import { hashPath } from '@secret-gateway/core';

/**
 * Gateway path -> Key Vault secret name. Key Vault allows only `[0-9a-zA-Z-]`, 1-127 characters,
 * and ignores case, so the name uses only `[a-z0-9-]` with `-` as the escape character:
 *
 * | path   | name  |
 * |--------|-------|
 * | `/`    | `--`  |
 * | `-`    | `-0`  |
 * | `_`    | `-1`  |
 * | `.`    | `-2`  |
 * | `A`    | `-a`  |
 *
 * Every `-` the encoder writes is followed by `-`, `0`-`2` or `a`-`z`, so decoding is unambiguous and
 * two paths never share a name. A name longer than 127 characters becomes `sgwh-9-<base32 SHA-256>`:
 * `-9` never comes out of the encoder, so hashed names cannot collide with encoded ones; the original
 * path is kept in the version tags (see versions.ts).
 */
export const MAX_NAME = 127;
export const HASHED_PREFIX = 'sgwh-9-';

const ESCAPES: Record<string, string> = { '/': '--', '-': '-0', _: '-1', '.': '-2' };
const UNESCAPES: Record<string, string> = { '-': '/', '0': '-', '1': '_', '2': '.' };

export function encodePath(path: string): string {
  let out = '';
  for (const ch of path) {
    if (/[a-z0-9]/.test(ch)) out += ch;
    else if (/[A-Z]/.test(ch)) out += `-${ch.toLowerCase()}`;
    else {
      const escaped = ESCAPES[ch];
      if (escaped === undefined) throw new Error(`cannot encode ${JSON.stringify(ch)} in a Key Vault name`);
      out += escaped;
    }
  }
  return out;
}

/** The path an encoded (not hashed) name stands for; throws on a name this encoder cannot produce. */
export function decodeName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i] ?? '';
    if (ch !== '-') {
      if (!/[a-z0-9]/.test(ch)) throw new Error(`not an encoded name: ${name}`);
      out += ch;
      continue;
    }
    const next = name[++i] ?? '';
    const plain = UNESCAPES[next];
    if (plain !== undefined) out += plain;
    else if (/[a-z]/.test(next)) out += next.toUpperCase();
    else throw new Error(`not an encoded name: ${name}`);
  }
  return out;
}

export function isHashedName(name: string): boolean {
  return name.startsWith(HASHED_PREFIX);
}

export function secretName(path: string): string {
  const encoded = encodePath(path);
  return encoded.length <= MAX_NAME ? encoded : `${HASHED_PREFIX}${hashPath(path)}`;
}

/** The gateway path of a name this adapter made; hashed names need the path from their tags. */
export function pathOf(name: string, taggedPath?: string): string | undefined {
  if (isHashedName(name)) return taggedPath;
  return decodeName(name.toLowerCase());
}
