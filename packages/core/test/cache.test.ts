import { MemoryAdapter } from '@secret-gateway/adapter-memory';
import { describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  type CacheOptions,
  type CacheResult,
  ReadCache,
  SecretService,
  type StoredSecret,
} from '../src/index.ts';

/** Counts backend reads; can be made to fail or to hold reads until released. */
class CountingAdapter extends MemoryAdapter {
  reads = 0;
  failing = false;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  override async read(path: string, version: number | undefined): Promise<StoredSecret | null> {
    this.reads++;
    const result = await super.read(path, version);
    if (this.#gate) await this.#gate;
    if (this.failing) throw new BackendUnavailableError('throttled', 'throttled', { retryAfterSeconds: 3 });
    return result;
  }
}

function setup(cache: Partial<CacheOptions> = {}) {
  let now = 1_000_000;
  const adapter = new CountingAdapter();
  const events: CacheResult[] = [];
  const service = new SecretService(adapter, {
    cache: { ttlMs: 1000, now: () => now, ...cache },
    onCacheEvent: (e) => events.push(e),
  });
  return {
    adapter,
    service,
    events,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const P = 'tfy-secret/cache/a';

describe('read cache', () => {
  it('serves repeated reads from memory until the TTL ends', async () => {
    const t = setup();
    await t.service.put(P, 'v1');
    expect((await t.service.get(P)).value).toBe('v1');
    expect((await t.service.get(P)).cache).toBe('hit');
    expect(t.adapter.reads).toBe(1);
    t.advance(999);
    await t.service.get(P);
    expect(t.adapter.reads).toBe(1);
    t.advance(1);
    expect((await t.service.get(P)).cache).toBe('miss');
    expect(t.adapter.reads).toBe(2);
    expect(t.events).toEqual(['miss', 'hit', 'hit', 'miss']);
  });

  it('a write through the gateway invalidates: the next read sees the new version', async () => {
    const t = setup();
    await t.service.put(P, 'v1');
    await t.service.get(P);
    await t.service.get(P, 1);
    await t.service.put(P, 'v2');
    expect(await t.service.get(P)).toMatchObject({ version: 2, value: 'v2', cache: 'miss' });
    expect(t.adapter.reads).toBe(3);
  });

  it('deleting a version or the whole secret invalidates every cached version of the path', async () => {
    const t = setup();
    await t.service.put(P, 'v1');
    await t.service.put(P, 'v2');
    await t.service.get(P);
    await t.service.get(P, 2);
    await t.service.delete(P, 2);
    await expect(t.service.get(P, 2)).rejects.toMatchObject({ code: 'not_found' });
    expect((await t.service.get(P)).version).toBe(1);
    await t.service.delete(P);
    await expect(t.service.get(P)).rejects.toMatchObject({ code: 'not_found' });
    await expect(t.service.get(P, 1)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('1,000 concurrent reads of a cold key make exactly one backend call', async () => {
    const t = setup();
    await t.service.put(P, 'v1');
    t.adapter.hold();
    const reads = Array.from({ length: 1000 }, () => t.service.get(P));
    t.adapter.release();
    const results = await Promise.all(reads);
    expect(t.adapter.reads).toBe(1);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(['v1']));
    expect(t.events.filter((e) => e === 'miss')).toHaveLength(1);
    expect(t.events.filter((e) => e === 'coalesced')).toHaveLength(999);
  });

  it('a read that began before a write cannot put the old value back in the cache', async () => {
    const t = setup();
    await t.service.put(P, 'old');
    t.adapter.hold();
    const slowRead = t.service.get(P);
    await new Promise((r) => setImmediate(r));
    t.adapter.release();
    await t.service.put(P, 'new');
    await slowRead;
    expect((await t.service.get(P)).value).toBe('new');
  });

  it('reads joining a load are not served a load that began before a write', async () => {
    const t = setup();
    await t.service.put(P, 'old');
    t.adapter.hold();
    const before = t.service.get(P);
    await t.service.put(P, 'new').finally(() => undefined);
    const after = t.service.get(P);
    t.adapter.release();
    expect((await before).value).toBe('old');
    expect((await after).value).toBe('new');
  });

  it('a load that saw the old value and ends after a write has returned does not refill the cache', async () => {
    const t = setup();
    await t.service.put(P, 'old');
    // The load reads 'old' from the store, then is held until released.
    t.adapter.hold();
    const before = t.service.get(P);
    await t.service.put(P, 'new');
    t.adapter.release();
    expect((await before).value).toBe('old');
    expect((await t.service.get(P)).value).toBe('new');
    expect(t.adapter.reads).toBe(2);
  });

  it('does not cache "not found" by default', async () => {
    const t = setup();
    await expect(t.service.get(P)).rejects.toMatchObject({ code: 'not_found' });
    await expect(t.service.get(P)).rejects.toMatchObject({ code: 'not_found' });
    expect(t.adapter.reads).toBe(2);
  });

  it('caches "not found" for negativeTtlMs when configured, and a write ends it', async () => {
    const t = setup({ negativeTtlMs: 100 });
    await expect(t.service.get(P)).rejects.toMatchObject({ code: 'not_found' });
    await expect(t.service.get(P)).rejects.toMatchObject({ code: 'not_found' });
    expect(t.adapter.reads).toBe(1);
    t.advance(100);
    await expect(t.service.get(P)).rejects.toMatchObject({ code: 'not_found' });
    expect(t.adapter.reads).toBe(2);
    await t.service.put(P, 'now-here');
    expect((await t.service.get(P)).value).toBe('now-here');
  });

  it('stale-if-error serves the last value while the backend fails, only within the window', async () => {
    const t = setup({ staleIfErrorMs: 5000 });
    await t.service.put(P, 'known');
    await t.service.get(P);
    t.advance(1000);
    t.adapter.failing = true;
    expect(await t.service.get(P)).toMatchObject({ value: 'known', cache: 'stale' });
    t.advance(4999); // 5,999 ms after the read: the TTL (1,000) plus the stale window (5,000) minus 1
    expect((await t.service.get(P)).cache).toBe('stale');
    t.advance(1);
    await expect(t.service.get(P)).rejects.toMatchObject({
      code: 'backend_unavailable',
      retryAfterSeconds: 3,
    });
    t.adapter.failing = false;
    expect((await t.service.get(P)).cache).toBe('miss');
    expect(t.events).toContain('stale');
  });

  it('without stale-if-error a failing backend is an error, cache or not', async () => {
    const t = setup();
    await t.service.put(P, 'known');
    await t.service.get(P);
    t.advance(1000);
    t.adapter.failing = true;
    await expect(t.service.get(P)).rejects.toMatchObject({ code: 'backend_unavailable' });
  });

  it('holds at most maxEntries entries, dropping the least recently used', async () => {
    const t = setup({ maxEntries: 3 });
    for (const n of [1, 2, 3, 4]) await t.service.put(`${P}${n}`, `v${n}`);
    for (const n of [1, 2, 3]) await t.service.get(`${P}${n}`);
    await t.service.get(`${P}1`); // 1 is now the most recent
    await t.service.get(`${P}4`); // evicts 2
    expect(t.service.cache?.size).toBe(3);
    const before = t.adapter.reads;
    await t.service.get(`${P}1`);
    await t.service.get(`${P}3`);
    expect(t.adapter.reads).toBe(before);
    await t.service.get(`${P}2`);
    expect(t.adapter.reads).toBe(before + 1);
  });

  it('a key read regularly survives while many others pass through a full cache', async () => {
    const t = setup({ maxEntries: 100 });
    await t.service.put(`${P}hot`, 'hot');
    await t.service.get(`${P}hot`);
    for (let n = 0; n < 300; n++) {
      await t.service.put(`${P}c${n}`, 'v');
      await t.service.get(`${P}c${n}`);
      // Read far less often than once per insertion: recency is refreshed only in the older half.
      if (n % 20 === 0) {
        const before = t.adapter.reads;
        expect((await t.service.get(`${P}hot`)).cache).toBe('hit');
        expect(t.adapter.reads).toBe(before);
      }
    }
    expect(t.service.cache?.size).toBe(100);
    // The oldest of the cold keys went first.
    const before = t.adapter.reads;
    await t.service.get(`${P}c0`);
    expect(t.adapter.reads).toBe(before + 1);
  });

  it('holds at most maxBytes of values and never caches a value larger than the bound', async () => {
    const t = setup({ maxBytes: 10_000 });
    await t.service.put(`${P}big`, 'x'.repeat(6000));
    await t.service.get(`${P}big`);
    expect(t.service.cache?.size).toBe(0);
    for (const n of [1, 2, 3]) {
      await t.service.put(`${P}${n}`, 'y'.repeat(2000));
      await t.service.get(`${P}${n}`);
    }
    expect(t.service.cache?.size).toBe(2);
    expect(t.service.cache?.bytes).toBeLessThanOrEqual(10_000);
  });

  it('sweep removes expired values from memory without a lookup', () => {
    let now = 0;
    const cache = new ReadCache({ ttlMs: 10, staleIfErrorMs: 10, now: () => now });
    cache.fill('k', 'p', { value: 'v', version: 1 }, cache.begin());
    now = 19;
    cache.sweep();
    expect(cache.size).toBe(1);
    now = 20;
    cache.sweep();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it("peek answers a fresh hit synchronously with the entry's own object, and nothing else", async () => {
    const t = setup({ negativeTtlMs: 1000 });
    expect(t.service.peek(P)).toBeUndefined();
    await t.service.put(P, 'v1');
    expect(t.service.peek(P)).toBeUndefined();
    await t.service.get(P);
    const first = t.service.peek(P);
    expect(first).toEqual({ value: 'v1', version: 1 });
    // The same object until the entry goes, so the gateway can key an answer's body on it.
    expect(t.service.peek(P)).toBe(first);
    expect(t.service.peek(P, 1)).toBeUndefined();
    // Cached "not found" is not a hit.
    await expect(t.service.get(`${P}x`)).rejects.toMatchObject({ code: 'not_found' });
    expect(t.service.peek(`${P}x`)).toBeUndefined();
    await t.service.put(P, 'v2');
    expect(t.service.peek(P)).toBeUndefined();
    await t.service.get(P);
    expect(t.service.peek(P)).toEqual({ value: 'v2', version: 2 });
    expect(t.service.peek(P)).not.toBe(first);
    t.advance(1000);
    expect(t.service.peek(P)).toBeUndefined();
    expect(t.events.filter((e) => e === 'hit')).toHaveLength(4);
  });

  it('keeps its own copy of what the adapter returned', () => {
    const cache = new ReadCache({ ttlMs: 10, now: () => 0 });
    const returned = { value: 'v', version: 1 };
    cache.fill('k', 'p', returned, cache.begin());
    returned.value = 'changed';
    expect(cache.fresh('k')).toEqual({ value: 'v', version: 1 });
  });
});
