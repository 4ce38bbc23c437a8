import { hashPath } from '@secret-gateway/core';

/**
 * Gateway path -> Secrets Manager name. The path is kept as it is (`/` included), so IAM policies
 * on a name prefix such as `tfy-secret/acme/*` keep working. Two exceptions, both using characters a
 * gateway path can never contain, so the mapping stays reversible and collision-free:
 * - a name ending in `-` plus six characters looks like AWS's random ARN suffix and makes lookups
 *   by partial ARN ambiguous: such names get trailing `+` until they no longer end that way;
 * - a path longer than AWS's 512 characters becomes `<root>/@sha256/<base32 of its SHA-256>`, and
 *   the original path is kept in the secret's Description.
 */
export const MAX_NAME = 512;

export function isHashedName(name: string): boolean {
  return name.includes('/@sha256/');
}

export function secretName(path: string): string {
  if (path.length > MAX_NAME) return `${path.split('/')[0]}/@sha256/${hashPath(path)}`;
  let name = path;
  while (/-[^/]{6}$/.test(name)) name += '+';
  return name;
}

/** The gateway path of a name this adapter made (`description` is needed for hashed names). */
export function pathOf(name: string, description?: string): string {
  if (isHashedName(name)) return description ?? '';
  return name.replace(/\+*$/, '');
}
