import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromEnv, Keyring, SqliteAdapter } from '../src/index.ts';
import { newAdapter, tempDir } from './helpers.ts';

/** Every byte SQLite wrote: the database, its WAL and shared-memory files. */
function allBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

describe('encryption at rest (backdoor: reads the SQLite file itself)', () => {
  it('no stored value appears in plaintext anywhere in the data directory', async () => {
    const dir = tempDir();
    const adapter = newAdapter(dir);
    const values = [
      'plaintext-canary-7f3a9c',
      'ünïcödé-canary-密码',
      JSON.stringify({ canary: 'json-canary-51bd' }),
      'x'.repeat(4096) + 'long-canary',
    ];
    for (const [i, value] of values.entries()) await adapter.write(`tfy-secret/enc/${i}`, value);
    await adapter.write('tfy-secret/enc/0', 'second-canary-e21d');
    expect((await adapter.read('tfy-secret/enc/0', 1))?.value).toBe(values[0]);
    const bytes = allBytes(dir);
    for (const value of [...values, 'second-canary-e21d']) {
      expect(bytes.includes(Buffer.from(value, 'utf8')), 'plaintext found on disk').toBe(false);
    }
    // The path itself is stored (it is not secret) - proves the scan reads the right files.
    expect(bytes.includes(Buffer.from('tfy-secret/enc/0'))).toBe(true);
    await adapter.close();
    expect(allBytes(dir).includes(Buffer.from('plaintext-canary-7f3a9c'))).toBe(false);
  });

  it('stores a key id, IV, tag and ciphertext per row', async () => {
    const dir = tempDir();
    const keyring = new Keyring(randomBytes(32));
    const adapter = newAdapter(dir, keyring);
    await adapter.write('tfy-secret/enc/a', 'value-a');
    const row = adapter.db.prepare('SELECT key_id, iv, tag, ciphertext FROM versions').get() as Record<
      string,
      Buffer | string
    >;
    expect(row.key_id).toBe(keyring.current.id);
    expect((row.iv as Buffer).length).toBe(12);
    expect((row.tag as Buffer).length).toBe(16);
    expect((row.ciphertext as Buffer).length).toBe('value-a'.length);
    await adapter.close();
  });

  it('a ciphertext copied onto another path, version or generation fails to decrypt', async () => {
    const adapter = newAdapter();
    await adapter.write('tfy-secret/enc/victim', 'victim-value');
    await adapter.write('tfy-secret/enc/victim', 'victim-value-2');
    await adapter.write('tfy-secret/enc/attacker', 'attacker-value');
    const copy = (fromPath: string, fromVersion: number, toPath: string, toVersion: number) =>
      adapter.db
        .prepare(
          `UPDATE versions SET (key_id, iv, tag, ciphertext) =
             (SELECT key_id, iv, tag, ciphertext FROM versions WHERE path = ? AND version = ?)
           WHERE path = ? AND version = ?`,
        )
        .run(fromPath, fromVersion, toPath, toVersion);
    copy('tfy-secret/enc/victim', 1, 'tfy-secret/enc/attacker', 1);
    await expect(adapter.read('tfy-secret/enc/attacker', 1)).rejects.toMatchObject({ code: 'backend_error' });
    copy('tfy-secret/enc/victim', 1, 'tfy-secret/enc/victim', 2);
    await expect(adapter.read('tfy-secret/enc/victim', 2)).rejects.toMatchObject({ code: 'backend_error' });

    // Same path and version, but an older generation (before delete-all): refused too.
    const old = adapter.db
      .prepare(
        "SELECT key_id, iv, tag, ciphertext FROM versions WHERE path = 'tfy-secret/enc/victim' AND version = 1",
      )
      .get() as Record<string, unknown>;
    await adapter.deleteSecret('tfy-secret/enc/victim');
    await adapter.write('tfy-secret/enc/victim', 'new-generation');
    adapter.db
      .prepare(
        "UPDATE versions SET key_id = ?, iv = ?, tag = ?, ciphertext = ? WHERE path = 'tfy-secret/enc/victim' AND version = 1",
      )
      .run(old.key_id, old.iv, old.tag, old.ciphertext);
    await expect(adapter.read('tfy-secret/enc/victim', 1)).rejects.toMatchObject({ code: 'backend_error' });
    await adapter.close();
  });

  it('error messages never contain the value', async () => {
    const adapter = newAdapter();
    await adapter.write('tfy-secret/enc/t', 'tamper-canary-99');
    adapter.db.prepare("UPDATE versions SET tag = zeroblob(16) WHERE path = 'tfy-secret/enc/t'").run();
    const error = await adapter.read('tfy-secret/enc/t', undefined).catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain('tamper-canary-99');
    await adapter.close();
  });
});

describe('keys and files', () => {
  it('rotates: rows under the previous key stay readable, new rows use the new key', async () => {
    const dir = tempDir();
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const first = newAdapter(dir, new Keyring(oldKey));
    await first.write('tfy-secret/rot/a', 'under-old-key');
    await first.close();
    const second = newAdapter(dir, new Keyring(newKey, [oldKey]));
    expect((await second.read('tfy-secret/rot/a', undefined))?.value).toBe('under-old-key');
    await second.write('tfy-secret/rot/a', 'under-new-key');
    const ids = second.db.prepare('SELECT key_id FROM versions ORDER BY version').all() as Array<{
      key_id: string;
    }>;
    expect(ids.map((r) => r.key_id)).toEqual([
      new Keyring(oldKey).current.id,
      new Keyring(newKey).current.id,
    ]);
    await second.close();
    // Dropping the old key while rows still need it is refused at start (keys.test.ts); once its
    // last row is gone, the new key alone opens the store.
    expect(() => newAdapter(dir, new Keyring(newKey))).toThrow(/does not have/);
    const cleanup = newAdapter(dir, new Keyring(newKey, [oldKey]));
    await cleanup.deleteVersion('tfy-secret/rot/a', 1);
    await cleanup.close();
    const withoutOld = newAdapter(dir, new Keyring(newKey));
    expect((await withoutOld.read('tfy-secret/rot/a', 2))?.value).toBe('under-new-key');
    await withoutOld.close();
  });

  it('fromEnv generates master.key once with mode 0600 and reuses it; the database is 0600', async () => {
    const dir = join(tempDir(), 'data');
    const a = fromEnv({}, { dataDir: dir });
    await a.write('tfy-secret/env/a', 'persisted');
    await a.close();
    const key = readFileSync(join(dir, 'master.key'), 'utf8');
    expect(Buffer.from(key.trim(), 'base64')).toHaveLength(32);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'secrets.db')).mode & 0o777).toBe(0o600);
    const b = fromEnv({}, { dataDir: dir });
    expect((await b.read('tfy-secret/env/a', undefined))?.value).toBe('persisted');
    await b.close();
    expect(readFileSync(join(dir, 'master.key'), 'utf8')).toBe(key);
  });

  it('fromEnv takes SGW_MASTER_KEY and rejects a key of the wrong size with a clear error', async () => {
    const dir = tempDir();
    expect(() => fromEnv({ SGW_MASTER_KEY: Buffer.alloc(16).toString('base64') }, { dataDir: dir })).toThrow(
      /SGW_MASTER_KEY must be base64 of exactly 32 bytes/,
    );
    const key = randomBytes(32).toString('base64');
    const a = fromEnv({ SGW_MASTER_KEY: key }, { dataDir: dir });
    await a.write('tfy-secret/env/k', 'v');
    await a.close();
    expect(() => fromEnv({ SGW_MASTER_KEY: randomBytes(32).toString('base64') }, { dataDir: dir })).toThrow(
      /set SGW_MASTER_KEY to the key they were written with/,
    );
  });

  it('two adapters on one file (two gateway processes) never hand out the same version', async () => {
    const dir = tempDir();
    const keyring = new Keyring(randomBytes(32));
    const a = newAdapter(dir, keyring);
    const b = newAdapter(dir, keyring);
    const versions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).write('tfy-secret/shared/x', `w${i}`)),
    );
    expect([...versions].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await a.close();
    await b.close();
  });

  it('a closed adapter answers unavailable, not a crash', async () => {
    const adapter = newAdapter();
    await adapter.close();
    await adapter.close();
    await expect(adapter.read('tfy-secret/x/y', undefined)).rejects.toMatchObject({
      code: 'backend_unavailable',
    });
    await expect(adapter.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
  });

  it('fromEnv honours SGW_SQLITE_FILE', async () => {
    const file = join(tempDir(), 'elsewhere.db');
    const adapter = fromEnv({ SGW_SQLITE_FILE: file }, { dataDir: tempDir() });
    expect(adapter).toBeInstanceOf(SqliteAdapter);
    expect(adapter.file).toBe(file);
    await adapter.write('tfy-secret/env/f', 'v');
    expect(statSync(file).size).toBeGreaterThan(0);
    await adapter.close();
  });
});

describe('prefetch', () => {
  it('reads the whole database file once in the background at start', async () => {
    const dir = tempDir();
    const keyring = new Keyring(randomBytes(32));
    const first = newAdapter(dir, keyring);
    for (let i = 0; i < 200; i++) await first.write(`tfy-secret/pre/${i}`, 'v'.repeat(500));
    await first.close();
    const second = newAdapter(dir, keyring);
    expect(await second.prefetched).toBe(statSync(join(dir, 'secrets.db')).size);
    await second.close();
  });
});
