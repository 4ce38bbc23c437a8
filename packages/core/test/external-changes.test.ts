import { MemoryAdapter } from '@secret-gateway/adapter-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AdapterCapabilities, SecretService } from '../src/index.ts';

/**
 * A store another process can change behind the service's back: `behind` writes straight to the
 * store, and `externalChanges()` reports it once, as the SQLite adapter does with data_version.
 */
class SharedStore extends MemoryAdapter {
  #changed = false;
  calls = 0;

  async behind(action: (store: MemoryAdapter) => Promise<unknown>): Promise<void> {
    await action(this);
    this.#changed = true;
  }

  externalChanges(): boolean {
    this.calls++;
    const changed = this.#changed;
    this.#changed = false;
    return changed;
  }
}

/** The same, checking at most every `windowMs`. */
class WindowedStore extends SharedStore {
  override readonly capabilities: AdapterCapabilities = {
    ...new MemoryAdapter().capabilities,
    externalChangesWindowMs: 50,
  };
}

const P = 'tfy-secret/ext/a';

afterEach(() => {
  vi.useRealTimers();
});

describe('changes made by another process (adapter.externalChanges)', () => {
  it('peek asks before every hit and drops the cache when the store changed elsewhere', async () => {
    const store = new SharedStore();
    const service = new SecretService(store, { cache: { ttlMs: 60_000 } });
    await service.put(P, 'v1');
    await service.get(P);
    expect(service.peek(P)).toEqual({ value: 'v1', version: 1 });
    await store.behind((s) => s.deleteSecret(P));
    expect(service.peek(P)).toBeUndefined();
    await expect(service.get(P)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('get asks before serving from the cache, and reads the store again on a change', async () => {
    const store = new SharedStore();
    const service = new SecretService(store, { cache: { ttlMs: 60_000 } });
    await service.put(P, 'v1');
    await service.get(P);
    expect((await service.get(P)).cache).toBe('hit');
    await store.behind(async (s) => {
      await s.deleteSecret(P);
      await s.write(P, 'recreated');
    });
    expect(await service.get(P)).toMatchObject({ version: 1, value: 'recreated', cache: 'miss' });
    expect((await service.get(P)).cache).toBe('hit');
  });

  it('is not asked when there is no cache', async () => {
    const store = new SharedStore();
    const service = new SecretService(store);
    await service.put(P, 'v1');
    await service.get(P);
    expect(service.peek(P)).toBeUndefined();
    expect(store.calls).toBe(0);
  });

  it("holds back every write's and delete's acknowledgement for the adapter's window", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    const service = new SecretService(new WindowedStore(), { cache: { ttlMs: 60_000 } });
    const acknowledged = async (operation: Promise<unknown>) => {
      let done = false;
      const settled = operation.then(() => {
        done = true;
      });
      await vi.advanceTimersByTimeAsync(49);
      const early = done;
      await vi.advanceTimersByTimeAsync(1);
      await settled;
      return { early, done };
    };
    expect(await acknowledged(service.put(P, 'v1'))).toEqual({ early: false, done: true });
    expect(await acknowledged(service.delete(P, 1))).toEqual({ early: false, done: true });
    await acknowledged(service.put(P, 'v2'));
    expect(await acknowledged(service.delete(P))).toEqual({ early: false, done: true });
  });

  it('holds nothing back without externalChanges, with a zero window, or when the adapter holds back itself', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const plain = new (class extends MemoryAdapter {
      override readonly capabilities: AdapterCapabilities = {
        ...new MemoryAdapter().capabilities,
        externalChangesWindowMs: 50,
        synchronous: true,
      };
    })();
    await new SecretService(plain).put(P, 'v');
    // An adapter that holds its acknowledgements back itself (SQLite's group commit, from the commit).
    const holdsItself = new (class extends WindowedStore {
      override readonly capabilities: AdapterCapabilities = {
        ...new WindowedStore().capabilities,
        holdsBackAcknowledgements: true,
        synchronous: true,
      };
    })();
    await new SecretService(holdsItself).put(P, 'v');
    await new SecretService(new SharedStore(), { deadlineMs: 10 }).put(P, 'v');
    // The last service's deadline timer is the only one.
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
