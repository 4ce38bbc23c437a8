import { hashPath } from '@secret-gateway/core';

/**
 * Gateway path <-> Secrets Manager name. The path is kept as it is (`/` included), so IAM policies on
 * a name prefix such as `arn:...:secret:tfy-secret/acme/*` keep working. Gateway paths only hold
 * `A-Za-z0-9 _ - . /`, all legal in AWS names, so nothing needs escaping except two cases, both
 * marked with characters a gateway path never contains (`+`, `@`), which keeps the mapping
 * reversible and collision-free:
 * - a name ending in `-` plus six characters looks like the random suffix AWS appends to ARNs, and
 *   AWS may resolve it as another secret's partial ARN (`db` + `-abcdef`): such names get `+`
 *   appended until they no longer end that way;
 * - a path longer than AWS's 512 characters becomes `<root>/@sha256/<base32 of its SHA-256>`; the
 *   original path is kept in the secret's Description (a tag value stops at 256 characters).
 */
export const MAX_NAME = 512;
const HASHED = '/@sha256/';
const ARN_SUFFIX_LOOKALIKE = /-[^/]{6}$/;

export function isHashedName(name: string): boolean {
  return name.includes(HASHED);
}

export function secretName(path: string): string {
  if (path.length > MAX_NAME) return `${path.split('/')[0]}${HASHED}${hashPath(path)}`;
  let name = path;
  while (ARN_SUFFIX_LOOKALIKE.test(name)) name += '+';
  return name;
}

/** The gateway path of a name this adapter made (`description` is needed for hashed names). */
export function pathOf(name: string, description?: string): string | undefined {
  if (isHashedName(name)) return description && secretName(description) === name ? description : undefined;
  return name.replace(/\+*$/, '');
}
