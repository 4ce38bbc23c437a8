import { type SecretState, versionToken } from './versions.ts';

/** What this process did to one secret lately. */
interface Known {
  at: number;
  generation: string;
  /** Delete-all was the last change: absent until the next write. */
  deleted: boolean;
  /** The highest version number of `generation` known to exist (live or tombstoned). */
  highest: number;
  tombstones: Set<number>;
}

const MAX_ENTRIES = 10_000;

/**
 * Read-your-writes over an eventually consistent DescribeSecret ("All Secrets Manager operations are
 * eventually consistent": ListSecretsCommand.d.ts). For `windowMs` after this process changed a
 * secret, what it did is merged into every DescribeSecret it reads: a second quick delete keeps the
 * first tombstone, a second PUT of the same value takes a new number instead of replaying the
 * first's token (AWS answers a same-token same-value put as a retry), a read after a write finds the
 * write. Other replicas' changes are not known here: that window is docs/backends/aws.md's.
 */
export class RecentChanges {
  readonly #known = new Map<string, Known>();
  /** Version tokens being written by this process now (`name` NUL `generation`: numbers). */
  readonly #inflight = new Map<string, Set<number>>();

  constructor(
    readonly windowMs: number,
    readonly now: () => number = Date.now,
  ) {}

  #get(name: string): Known | undefined {
    const known = this.#known.get(name);
    if (known && this.now() - known.at > this.windowMs) {
      this.#known.delete(name);
      return undefined;
    }
    return known;
  }

  #set(name: string, known: Omit<Known, 'at'>): void {
    if (this.windowMs <= 0) return;
    this.#known.delete(name);
    this.#known.set(name, { ...known, at: this.now() });
    // Oldest first: a burst over many paths forgets the earliest, which are the likeliest caught up.
    if (this.#known.size > MAX_ENTRIES) this.#known.delete(this.#known.keys().next().value as string);
  }

  /**
   * The number a write takes: `next`, or above any this process is writing to the same secret right
   * now. Two of its writers with the same value must not send the same token (AWS would answer both
   * as one put). `release` it when the put has answered.
   */
  claim(name: string, generation: string, next: number): number {
    const key = `${name}\u0000${generation}`;
    const set = this.#inflight.get(key) ?? new Set<number>();
    let n = next;
    for (const taken of set) if (taken >= n) n = taken + 1;
    set.add(n);
    this.#inflight.set(key, set);
    return n;
  }

  release(name: string, generation: string, version: number): void {
    const key = `${name}\u0000${generation}`;
    const set = this.#inflight.get(key);
    set?.delete(version);
    if (set?.size === 0) this.#inflight.delete(key);
  }

  /** Version `version` of `generation` exists (this process wrote it, or lost a race to it). */
  exists(name: string, generation: string, version: number): void {
    const known = this.#get(name);
    const same = known && !known.deleted && known.generation === generation;
    this.#set(name, {
      generation,
      deleted: false,
      highest: Math.max(version, same ? known.highest : 0),
      tombstones: same ? known.tombstones : new Set(),
    });
  }

  tombstoned(name: string, generation: string, tombstones: Set<number>, highest: number): void {
    this.#set(name, { generation, deleted: false, highest, tombstones });
  }

  /** Delete-all; `generation` is the one a restore continues in ('' after a force delete). */
  deletedAll(name: string, generation: string): void {
    this.#set(name, { generation, deleted: true, highest: 0, tombstones: new Set() });
  }

  /**
   * DescribeSecret's state (undefined: not found; `deletedAt` its DeletedDate) with this process's
   * recent changes merged in. What the answer shows that is newer than our change wins: a deletion
   * dated after it, or a version list that already holds our newest version (so an AWSCURRENT moved
   * back by an operator is still served).
   */
  merge(name: string, state: SecretState | undefined, deletedAt?: number): SecretState | undefined {
    const known = this.#get(name);
    if (!known) return state;
    if (state?.deleted && deletedAt !== undefined && deletedAt >= known.at) return state;
    if (known.deleted) {
      // A later write in the new generation (another replica's) is newer than our delete.
      if (state && !state.deleted && state.generation === known.generation && state.current !== undefined)
        return state;
      return {
        deleted: true,
        generation: known.generation,
        tombstones: new Set(),
        currentId: state?.currentId,
        current: undefined,
        stagesOf: state?.stagesOf ?? (() => []),
      };
    }
    const same = state !== undefined && !state.deleted && state.generation === known.generation;
    const tombstones = new Set(known.tombstones);
    if (same) for (const n of state.tombstones) tombstones.add(n);
    const caughtUp =
      same &&
      ((state.current ?? 0) >= known.highest ||
        state.stagesOf(versionToken(known.generation, known.highest)).length > 0);
    const current = caughtUp ? state.current : known.highest > 0 ? known.highest : undefined;
    return {
      deleted: false,
      generation: known.generation,
      tombstones,
      currentId: state?.currentId,
      current,
      stagesOf: state?.stagesOf ?? (() => []),
    };
  }
}
