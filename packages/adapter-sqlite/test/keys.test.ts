import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromEnv, Keyring } from '../src/index.ts';
import { newAdapter, tempDir } from './helpers.ts';

const key64 = () => randomBytes(32).toString('base64');
const idOf = (base64: string) => new Keyring(Buffer.from(base64, 'base64')).current.id;

/** What `fn` threw, or undefined. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Key ids of every row, straight from the file (backdoor). */
function rowKeyIds(dir: string, keyring: Keyring): string[] {
  const adapter = newAdapter(dir, keyring);
  try {
    return adapter.db
      .prepare('SELECT DISTINCT key_id FROM versions ORDER BY key_id')
      .pluck()
      .all() as string[];
  } finally {
    void adapter.close();
  }
}

describe('a store opened without the keys its rows need', () => {
  it('refuses to start, naming the missing key id and what to set; the store is left as it was', async () => {
    const dir = tempDir();
    const right = key64();
    const first = fromEnv({ SGW_MASTER_KEY: right }, { dataDir: dir });
    await first.write('tfy-secret/keys/a', 'old-value-canary');
    await first.close();

    const error = thrown(() => fromEnv({ SGW_MASTER_KEY: key64() }, { dataDir: dir }));
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(idOf(right));
    expect(message).toContain(join(dir, 'secrets.db'));
    expect(message).toMatch(/SGW_MASTER_KEY to the key/);
    expect(message).toMatch(/SGW_MASTER_KEY_PREVIOUS/);
    expect(message).toMatch(/master\.key/);
    expect(message).not.toContain('old-value-canary');
    expect(message).not.toContain(right);

    // Nothing was written under the wrong key, and the right key still reads everything.
    const keyring = new Keyring(Buffer.from(right, 'base64'));
    expect(rowKeyIds(dir, keyring)).toEqual([idOf(right)]);
    const again = fromEnv({ SGW_MASTER_KEY: right }, { dataDir: dir });
    expect((await again.read('tfy-secret/keys/a', undefined))?.value).toBe('old-value-canary');
    await again.close();
  });

  it('opens during a rotation with the old key in SGW_MASTER_KEY_PREVIOUS', async () => {
    const dir = tempDir();
    const oldKey = key64();
    const a = fromEnv({ SGW_MASTER_KEY: oldKey }, { dataDir: dir });
    await a.write('tfy-secret/keys/r', 'before-rotation');
    await a.close();
    const newKey = key64();
    const b = fromEnv({ SGW_MASTER_KEY: newKey, SGW_MASTER_KEY_PREVIOUS: oldKey }, { dataDir: dir });
    expect((await b.read('tfy-secret/keys/r', undefined))?.value).toBe('before-rotation');
    await b.write('tfy-secret/keys/r', 'after-rotation');
    await b.check();
    await b.close();
  });

  it('never generates master.key beside a store that holds secrets', async () => {
    const dir = tempDir();
    const a = fromEnv({}, { dataDir: dir });
    await a.write('tfy-secret/keys/m', 'v');
    await a.close();
    rmSync(join(dir, 'master.key'));
    expect(() => fromEnv({}, { dataDir: dir })).toThrow(
      `${join(dir, 'master.key')} is missing but the store ${join(dir, 'secrets.db')} holds secrets`,
    );
    expect(existsSync(join(dir, 'master.key'))).toBe(false);
  });

  it('generates master.key beside a store that has no live secrets (nothing to lose)', async () => {
    const dir = tempDir();
    const a = fromEnv({}, { dataDir: dir });
    await a.write('tfy-secret/keys/e', 'v');
    await a.deleteSecret('tfy-secret/keys/e');
    await a.close();
    rmSync(join(dir, 'master.key'));
    const b = fromEnv({}, { dataDir: dir });
    expect(Buffer.from(readFileSync(join(dir, 'master.key'), 'utf8').trim(), 'base64')).toHaveLength(32);
    await b.close();
  });

  it('check() fails with the cause when another process writes rows under a key this one lacks', async () => {
    const dir = tempDir();
    const mine = new Keyring(randomBytes(32));
    const theirs = new Keyring(randomBytes(32));
    const a = newAdapter(dir, mine);
    const b = newAdapter(dir, theirs);
    await a.check();
    await b.write('tfy-secret/keys/mixed', 'v');
    const error = await a.check().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'backend_error', reason: 'invalid' });
    expect((error as Error).message).toContain(theirs.current.id);
    await a.close();
    await b.close();
  });
});

describe('schema migration from version 1', () => {
  it('counts the key ids of existing rows, so a wrong key is refused after the upgrade too', async () => {
    const dir = tempDir();
    const keyring = new Keyring(randomBytes(32));
    const a = newAdapter(dir, keyring);
    for (let i = 0; i < 5; i++) await a.write(`tfy-secret/mig/${i}`, `v${i}`);
    await a.deleteVersion('tfy-secret/mig/4', 1);
    // Back to what a schema-1 gateway left: no key_ids table, no triggers.
    a.db.exec(`
      DROP TRIGGER versions_key_id_insert; DROP TRIGGER versions_key_id_delete;
      DROP TRIGGER versions_key_id_update; DROP TABLE key_ids; PRAGMA user_version = 1;`);
    await a.close();

    expect(() => newAdapter(dir, new Keyring(randomBytes(32)))).toThrow(keyring.current.id);
    const b = newAdapter(dir, keyring);
    expect(b.db.pragma('user_version', { simple: true })).toBe(2);
    expect(b.db.prepare('SELECT key_id, rows FROM key_ids').all()).toEqual([
      { key_id: keyring.current.id, rows: 4 },
    ]);
    expect((await b.read('tfy-secret/mig/3', undefined))?.value).toBe('v3');
    await b.close();
  });

  it('refuses a schema newer than it understands', () => {
    const dir = tempDir();
    const keyring = new Keyring(randomBytes(32));
    const a = newAdapter(dir, keyring);
    a.db.pragma('user_version = 99');
    void a.close();
    expect(() => newAdapter(dir, keyring)).toThrow(/schema 99 is newer/);
  });
});
