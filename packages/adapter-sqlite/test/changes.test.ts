import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SecretService } from '@secret-gateway/core';
import { describe, expect, it } from 'vitest';
import { ChangeWatch } from '../src/changes.ts';
import { Keyring, SqliteAdapter } from '../src/index.ts';
import { tempDir } from './helpers.ts';

/** Two adapters on one file: two gateway processes sharing a data directory. */
function pair(changeCheckMs?: number) {
  const file = join(tempDir(), 'secrets.db');
  const keyring = new Keyring(randomBytes(32));
  return [
    new SqliteAdapter({ file, keyring, changeCheckMs }),
    new SqliteAdapter({ file, keyring, changeCheckMs }),
  ] as const;
}

describe('commits by another process', () => {
  it("externalChanges() is true after the other connection's commit, once, and never for its own", async () => {
    const [a, b] = pair(0);
    expect(a.externalChanges()).toBe(false);
    await a.write('tfy-secret/ext/x', 'mine');
    await a.deleteSecret('tfy-secret/ext/x');
    expect(a.externalChanges()).toBe(false);
    await b.write('tfy-secret/ext/x', 'theirs');
    expect(a.externalChanges()).toBe(true);
    expect(a.externalChanges()).toBe(false);
    await b.deleteVersion('tfy-secret/ext/x', 1);
    expect(a.externalChanges()).toBe(true);
    await a.close();
    expect(a.externalChanges()).toBe(false);
    await b.close();
  });

  it('checks at most once per window, and the first check after the window sees every commit', async () => {
    const [a, b] = pair(0);
    let now = 1000;
    const watch = new ChangeWatch(a.db, 5, () => now);
    await b.write('tfy-secret/ext/w', 'v');
    now += 4.9;
    expect(watch.changed()).toBe(false);
    now += 0.1;
    expect(watch.changed()).toBe(true);
    now += 5;
    expect(watch.changed()).toBe(false);
    await a.close();
    await b.close();
  });

  it('declares its window, so SecretService holds acknowledgements back by it', () => {
    const [a, b] = pair(3);
    expect(a.capabilities.externalChangesWindowMs).toBe(3);
    void a.close();
    void b.close();
  });

  it("a cached read never outlives the other process's delete-all, or its re-create (contract §3.4)", async () => {
    const [a, b] = pair();
    const cache = { ttlMs: 60_000 };
    const A = new SecretService(a, { cache });
    const B = new SecretService(b, { cache });
    const path = 'tfy-secret/ext/shared';
    await A.put(path, 'first-value');
    expect((await A.get(path)).value).toBe('first-value');
    expect((await A.get(path)).cache).toBe('hit');

    await B.delete(path);
    expect(A.peek(path)).toBeUndefined();
    await expect(A.get(path)).rejects.toMatchObject({ code: 'not_found' });

    expect(await B.put(path, 'second-value')).toEqual({ path, version: 1 });
    expect(A.peek(path, 1)).toBeUndefined();
    expect(await A.get(path, 1)).toMatchObject({ version: 1, value: 'second-value' });
    await A.close();
    await B.close();
  });
});
