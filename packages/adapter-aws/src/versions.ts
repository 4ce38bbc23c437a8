import { randomBytes } from 'node:crypto';
import type { DescribeSecretResponse, Tag } from '@aws-sdk/client-secrets-manager';
import { base32 } from '@secret-gateway/core';

/**
 * Integer versions on Secrets Manager, which has none. Each version's id is the ClientRequestToken
 * we choose: `sgw-<generation>-v<16-digit number>` (32 characters), so the number reads back from
 * the id, and a second writer racing for the same number with another value gets
 * ResourceExistsException: free optimistic concurrency.
 *
 * A generation (tag `sgw-generation`) starts when a secret is created and again at every delete-all;
 * versions of other generations are never served, which is how old values stay hidden after a
 * recovery-window delete is followed by a restore. Deleted versions are tombstoned in tags
 * (`sgw-deleted`, `sgw-deleted-1`, ...), values `<generation>:<ranges>` with ranges like `1-3.7`
 * (only characters AWS allows in tags) and a chunk count in the first (tombstoneTags), so AWS may
 * keep a deleted version's value but the gateway never serves it again, and its number is never
 * handed out again.
 */
const TOKEN = /^sgw-([a-z2-7]{10})-v(\d{16})$/;
export const GENERATION_TAG = 'sgw-generation';
export const DELETED_TAG = 'sgw-deleted';
// TagResource's doc: "Maximum value length: 255" (the Tag type says 256; older gateways filled 256).
const TAG_VALUE_MAX = 255;
/** Chunks of the first encoding (no count) were cut at exactly this length. */
const LEGACY_TAG_VALUE_MAX = 256;

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

/** `[1,2,3,7]` -> `1-3.7` */
export function encodeRanges(numbers: Iterable<number>): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join('.');
}

export function decodeRanges(text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split('.').filter(Boolean)) {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b - a > 1_000_000) continue;
    for (let n = a; n <= b; n++) out.add(n);
  }
  return out;
}

/**
 * Tombstones of one generation as tags of at most 255 characters: `sgw-deleted` holds
 * `<generation>:n<count>.<ranges>`, `sgw-deleted-1`, ... hold `<generation>:<ranges>`. Chunks are
 * cut between ranges, never inside a number, and each but the last ends with `.`, so a replica still
 * on the decoder that concatenates chunks reads them right too while none is left over. TagResource
 * only sets the keys it is given: chunks a longer encoding wrote stay behind, and the count tells the
 * decoder to ignore them (no UntagResource, so no IAM permission more).
 */
export function tombstoneTags(generation: string, deleted: Iterable<number>): Tag[] {
  const parts = encodeRanges(deleted).split('.').filter(Boolean);
  const room = TAG_VALUE_MAX - generation.length - 1;
  // The header's length depends on the count it holds: grow the room kept for it until it fits.
  for (let digits = 1; ; digits++) {
    const chunks = splitParts(parts, room, room - `n${'9'.repeat(digits)}.`.length);
    if (String(chunks.length).length > digits) continue;
    return chunks.map((chunk, i) => ({
      Key: i === 0 ? DELETED_TAG : `${DELETED_TAG}-${i}`,
      Value: `${generation}:${i === 0 ? `n${chunks.length}.` : ''}${chunk}${i < chunks.length - 1 ? '.' : ''}`,
    }));
  }
}

/** Ranges packed greedily: a chunk, with the `.` that may end it, fits in `room` (`first` for the first). */
function splitParts(parts: string[], room: number, first: number): string[] {
  const chunks: string[] = [''];
  for (const part of parts) {
    const last = chunks.length - 1;
    const current = chunks[last] as string;
    // + 2: the `.` before the part, and the one that ends the chunk if another follows.
    if (current && current.length + part.length + 2 > (last === 0 ? first : room)) chunks.push(part);
    else chunks[last] = current ? `${current}.${part}` : part;
  }
  return chunks;
}

const HEADER = /^n(\d{1,3})(?:\.|$)/;

/**
 * The tombstones of `generation`; chunks left over from another generation are ignored, and so are
 * chunks beyond the count in the first one. Tags written before the count existed (ranges cut at
 * fixed offsets: every chunk but the last is full) are concatenated up to the first chunk that is
 * not full, since any chunk after it was left by a longer encoding.
 */
export function tombstonesFrom(generation: string, tags: Tag[] | undefined): Set<number> {
  const chunks = new Map<number, string>();
  for (const t of tags ?? []) {
    const m = t.Key === DELETED_TAG ? ['', '0'] : /^sgw-deleted-(\d+)$/.exec(t.Key ?? '');
    if (m && t.Value?.startsWith(`${generation}:`))
      chunks.set(Number(m[1]), t.Value.slice(generation.length + 1));
  }
  const first = chunks.get(0);
  if (first === undefined) return new Set();
  const header = HEADER.exec(first);
  if (header) {
    const out = decodeRanges(first.slice(header[0].length));
    for (let i = 1; i < Number(header[1]); i++) for (const n of decodeRanges(chunks.get(i) ?? '')) out.add(n);
    return out;
  }
  const full = LEGACY_TAG_VALUE_MAX - generation.length - 1;
  let text = first;
  for (let i = 1, previous = first; previous.length >= full && chunks.has(i); i++) {
    previous = chunks.get(i) as string;
    text += previous;
  }
  return decodeRanges(text);
}

/** What DescribeSecret says about a secret, in the adapter's terms. */
export interface SecretState {
  /** Scheduled for deletion, or being force-deleted: absent for the gateway. */
  deleted: boolean;
  /** '' when the secret was not made by the gateway (no generation tag). */
  generation: string;
  tombstones: Set<number>;
  /** The version id holding AWSCURRENT, whatever its generation. */
  currentId: string | undefined;
  /** AWSCURRENT's number when it belongs to the current generation. */
  current: number | undefined;
  stagesOf: (id: string) => string[];
}

export function secretState(raw: DescribeSecretResponse): SecretState {
  const generation = raw.Tags?.find((t) => t.Key === GENERATION_TAG)?.Value ?? '';
  const stages = raw.VersionIdsToStages ?? {};
  const currentId = Object.keys(stages).find((id) => stages[id]?.includes('AWSCURRENT'));
  const parsed = parseToken(currentId);
  return {
    deleted: raw.DeletedDate !== undefined,
    generation,
    tombstones: generation ? tombstonesFrom(generation, raw.Tags) : new Set(),
    currentId,
    current: generation && parsed?.generation === generation ? parsed.version : undefined,
    stagesOf: (id) => stages[id] ?? [],
  };
}

/** True when the current generation has any version record, live or deleted (contract: delete-all answers true). */
export const hasVersions = (s: SecretState) => s.current !== undefined || s.tombstones.size > 0;

/**
 * The number the next write takes: one above the highest ever created. That one is either live, and
 * then AWSCURRENT (every write moves AWSCURRENT to itself; deletes move it only down), or deleted, and
 * then tombstoned. If an operator moved AWSCURRENT back, the write collides and the adapter lists.
 */
export function nextFromState(s: SecretState): number {
  let max = s.current ?? 0;
  for (const n of s.tombstones) if (n > max) max = n;
  return max + 1;
}
