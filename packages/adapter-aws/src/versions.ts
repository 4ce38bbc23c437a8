import { randomBytes } from 'node:crypto';
import { base32 } from '@secret-gateway/core';

/**
 * Secrets Manager has no integer versions: each version's id is the ClientRequestToken we choose.
 * We make it `sgw-<generation>-v<16-digit number>` (32 characters), so the number can be read back
 * from the id, and a second writer racing for the same number with a different value gets
 * ResourceExistsException: free optimistic concurrency.
 *
 * A generation is a random tag that starts when a secret is created or restored after a delete-all;
 * versions of older generations are never served. Deleted versions are listed in tags
 * (`sgw-deleted`, `sgw-deleted-1`, ...) as ranges, so they are never served again even though AWS
 * may still hold them.
 */
const TOKEN = /^sgw-([a-z2-7]{10})-v(\d{16})$/;
export const GENERATION_TAG = 'sgw-generation';
export const DELETED_TAG = 'sgw-deleted';
const TAG_VALUE_MAX = 256;

export function newGeneration(): string {
  return base32(randomBytes(7)).slice(0, 10);
}

export function versionToken(generation: string, version: number): string {
  return `sgw-${generation}-v${String(version).padStart(16, '0')}`;
}

export function parseToken(id: string | undefined): { generation: string; version: number } | undefined {
  const m = id ? TOKEN.exec(id) : null;
  return m ? { generation: m[1] as string, version: Number(m[2]) } : undefined;
}

/** `[1,2,3,7]` -> `1-3,7` */
export function encodeRanges(numbers: Iterable<number>): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function decodeRanges(text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isSafeInteger(a)) continue;
    for (let n = a; n <= (b ?? a); n++) out.add(n);
  }
  return out;
}

/** Tombstones as tags: the ranges text split over as many 256-character tags as it needs. */
export function tombstoneTags(deleted: Iterable<number>): Array<{ Key: string; Value: string }> {
  const text = encodeRanges(deleted);
  const tags: Array<{ Key: string; Value: string }> = [];
  for (let i = 0; i * TAG_VALUE_MAX < text.length; i++) {
    tags.push({
      Key: i === 0 ? DELETED_TAG : `${DELETED_TAG}-${i}`,
      Value: text.slice(i * TAG_VALUE_MAX, (i + 1) * TAG_VALUE_MAX),
    });
  }
  return tags;
}

export function tombstonesFrom(tags: Array<{ Key?: string; Value?: string }> | undefined): Set<number> {
  const parts = (tags ?? [])
    .filter((t) => t.Key === DELETED_TAG || t.Key?.startsWith(`${DELETED_TAG}-`))
    .sort((a, b) => Number(a.Key?.split('-')[2] ?? 0) - Number(b.Key?.split('-')[2] ?? 0));
  return decodeRanges(parts.map((t) => t.Value ?? '').join(''));
}
