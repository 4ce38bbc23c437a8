import { latestLiveVersion, nextVersion, type VersionState } from '@secret-gateway/core';

/**
 * Key Vault version ids are random hex strings, so the gateway's integer versions live in tags, which
 * Key Vault keeps per version:
 * - `sgw-gen`: the generation. Delete-all starts the next one; only the newest generation is served,
 *   so versions brought back by a recover (purge protection) never reach a reader.
 * - `sgw-v`: the version number inside the generation.
 * - `sgw-deleted`: set (with `enabled: false`) when the version was deleted through the gateway, or
 *   when its writer lost a race for its number.
 * - `sgw-marker`: a disabled, empty version that opens a generation before a delete-all.
 * - `sgw-path-0..3`: the original path of a hashed name, 256 characters per tag.
 * - `sgw-claim`: set on the version a writer builds on, by that writer, before it writes the next
 *   one (index.ts: the last claim wins, the others withdraw).
 */
export const GEN_TAG = 'sgw-gen';
export const VERSION_TAG = 'sgw-v';
export const DELETED_TAG = 'sgw-deleted';
export const MARKER_TAG = 'sgw-marker';
export const PATH_TAG = 'sgw-path';
export const CLAIM_TAG = 'sgw-claim';
const TAG_VALUE_MAX = 256;

export interface VersionEntry {
  /** Key Vault's version id. */
  id: string;
  generation: number;
  /** Undefined for a generation marker. */
  version: number | undefined;
  /** Disabled or tagged deleted: never served. */
  deleted: boolean;
  tags: Record<string, string>;
}

export interface History {
  /** The newest generation (0 when no version carries our tags). */
  generation: number;
  entries: VersionEntry[];
}

const int = (text: string | undefined) => {
  if (text === undefined || !/^[0-9]{1,15}$/.test(text)) return undefined;
  return Number(text);
};

/** One listed version, or undefined for versions this adapter did not write. */
export function entryOf(props: {
  version?: string;
  enabled?: boolean;
  tags?: Record<string, string>;
}): VersionEntry | undefined {
  const tags = props.tags ?? {};
  const generation = int(tags[GEN_TAG]);
  if (generation === undefined || !props.version) return undefined;
  const marker = tags[MARKER_TAG] !== undefined;
  const version = marker ? undefined : int(tags[VERSION_TAG]);
  if (!marker && version === undefined) return undefined;
  return {
    id: props.version,
    generation,
    version,
    deleted: props.enabled === false || tags[DELETED_TAG] !== undefined,
    tags,
  };
}

/** The newest version, as one get returns it (index.ts). */
export interface Latest {
  id: string;
  value: string | undefined;
  tags: Record<string, string>;
  /** Undefined when the version is not ours. */
  entry: VersionEntry | undefined;
}

/**
 * Whether the newest version is the latest to serve: enabled, ours, numbered and not deleted. The
 * newest version carries the newest generation (delete-all's marker is written last, disabled).
 */
export function serves(latest: Latest): boolean {
  const entry = latest.entry;
  return entry !== undefined && !entry.deleted && entry.version !== undefined;
}

/**
 * The version a writer claims when the newest version cannot serve as its base: the highest
 * number of the newest generation (deleted or not), else that generation's marker.
 */
export function claimable(history: History): VersionEntry | undefined {
  const numbered = current(history).sort((a, b) => (b.version ?? 0) - (a.version ?? 0))[0];
  return numbered ?? history.entries.find((e) => e.generation === history.generation);
}

/** Whether two listings hold the same versions (nothing was written between them). */
export function sameIds(a: History, b: History | undefined): boolean {
  if (b === undefined || a.entries.length !== b.entries.length) return false;
  const ids = new Set(a.entries.map((e) => e.id));
  return b.entries.every((e) => ids.has(e.id));
}

export function historyOf(entries: VersionEntry[]): History {
  return { generation: Math.max(0, ...entries.map((e) => e.generation)), entries };
}

/** Numbered versions of the newest generation. */
export function current(history: History): VersionEntry[] {
  return history.entries.filter((e) => e.generation === history.generation && e.version !== undefined);
}

const states = (entries: VersionEntry[]): VersionState[] =>
  entries.map((e) => ({ version: e.version ?? 0, deleted: e.deleted }));

export function latestLive(history: History): number | undefined {
  return latestLiveVersion(states(current(history)));
}

export function nextNumber(history: History): number {
  return nextVersion(states(current(history)));
}

/** The live copies of version `n` in the newest generation (two only while a race is being repaired). */
export function liveCopies(history: History, n: number): VersionEntry[] {
  return current(history)
    .filter((e) => e.version === n && !e.deleted)
    .sort((a, b) => a.id.localeCompare(b.id));
}

export function versionTags(generation: number, version: number, path?: string): Record<string, string> {
  return { [GEN_TAG]: String(generation), [VERSION_TAG]: String(version), ...pathTags(path) };
}

export function markerTags(generation: number, path?: string): Record<string, string> {
  return { [GEN_TAG]: String(generation), [MARKER_TAG]: '1', ...pathTags(path) };
}

/** The original path of a hashed name, split over tags (Key Vault tag values hold 256 characters). */
export function pathTags(path: string | undefined): Record<string, string> {
  if (path === undefined) return {};
  const tags: Record<string, string> = {};
  for (let i = 0; i * TAG_VALUE_MAX < path.length; i++)
    tags[`${PATH_TAG}-${i}`] = path.slice(i * TAG_VALUE_MAX, (i + 1) * TAG_VALUE_MAX);
  return tags;
}

export function pathFromTags(tags: Record<string, string>): string | undefined {
  let path = '';
  for (let i = 0; tags[`${PATH_TAG}-${i}`] !== undefined; i++) path += tags[`${PATH_TAG}-${i}`];
  return path === '' ? undefined : path;
}
