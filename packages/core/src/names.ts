import { createHash } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding: only `[a-z2-7]`, legal in every backend's names. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

/**
 * A fixed-length (52-character) name for a path too long for a backend: base32 of its SHA-256.
 * Adapters put a prefix their encoder never produces in front, and keep the original path in a
 * tag or label, so the mapping stays collision-free and can be read back.
 */
export function hashPath(path: string): string {
  return base32(createHash('sha256').update(path, 'utf8').digest());
}
