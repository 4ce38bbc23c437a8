import { randomBytes } from 'node:crypto';
import { Keyring, keyIdOf, retryOnConflict } from '@secret-gateway/core';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresAdapter } from '../src/index.ts';
import { freshDatabase, KEY, newAdapter, sql, useCluster } from './helpers.ts';

const cluster = useCluster();
const open: PostgresAdapter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});
function replica(url: string, options = {}): PostgresAdapter {
  const adapter = newAdapter(url, { listen: false, ...options });
  open.push(adapter);
  return adapter;
}

describe('several replicas on one database', () => {
  it('replicas starting at once on an empty database migrate it once and all start', async () => {
    const url = await freshDatabase(cluster());
    const replicas = Array.from({ length: 6 }, () => replica(url));
    await Promise.all(replicas.map((r) => r.ready));
    expect(await sql(url, 'SELECT version FROM sgw_schema')).toEqual([{ version: 1 }]);
    // And a restart on the migrated database is a no-op.
    await replica(url).ready;
    expect(await sql(url, 'SELECT version FROM sgw_schema')).toEqual([{ version: 1 }]);
  });

  it('writers on two replicas (two pools) on the same paths get distinct versions and lose nothing', async () => {
    const url = await freshDatabase(cluster());
    const [a, b] = [replica(url, { poolMax: 4 }), replica(url, { poolMax: 4 })] as const;
    const paths = ['tfy-secret/acme/prod/one', 'tfy-secret/acme/prod/two'];
    const jobs = paths.flatMap((path) =>
      Array.from({ length: 30 }, (_, i) => {
        const adapter = i % 2 === 0 ? a : b;
        const value = `${path}#${i}`;
        return retryOnConflict(path, 20, () => adapter.write(path, value)).then((version) => ({
          path,
          value,
          version,
        }));
      }),
    );
    const acknowledged = await Promise.all(jobs);
    for (const path of paths) {
      const versions = acknowledged.filter((w) => w.path === path).map((w) => w.version);
      expect(versions.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
    for (const w of acknowledged)
      expect(await b.read(w.path, w.version)).toEqual({ value: w.value, version: w.version });
  });

  it('a write after a delete-all on another replica starts again at 1, under a new generation', async () => {
    const url = await freshDatabase(cluster());
    const [a, b] = [replica(url), replica(url)] as const;
    const path = 'tfy-secret/acme/prod/regen';
    await a.write(path, 'one');
    await a.write(path, 'two');
    const [before] = await sql<{ generation: Buffer }>(
      url,
      'SELECT generation FROM sgw_secrets WHERE path = $1',
      [path],
    );
    expect(await b.deleteSecret(path)).toBe(true);
    expect(await a.read(path, 2)).toBeNull();
    expect(await a.write(path, 'again')).toBe(1);
    const [after] = await sql<{ generation: Buffer }>(
      url,
      'SELECT generation FROM sgw_secrets WHERE path = $1',
      [path],
    );
    expect(after?.generation.equals(before?.generation as Buffer)).toBe(false);
    expect(await b.read(path, undefined)).toEqual({ value: 'again', version: 1 });
  });

  it('values are encrypted at rest and a row copied to another version fails authentication', async () => {
    const url = await freshDatabase(cluster());
    const a = replica(url);
    const path = 'tfy-secret/acme/prod/sealed';
    await a.write(path, 'plain-text-marker-1');
    await a.write(path, 'plain-text-marker-2');
    const rows = await sql<{ ciphertext: Buffer }>(url, 'SELECT ciphertext FROM sgw_versions');
    for (const row of rows) expect(row.ciphertext.toString('latin1')).not.toContain('plain-text-marker');
    await sql(
      url,
      'UPDATE sgw_versions SET iv = o.iv, tag = o.tag, ciphertext = o.ciphertext FROM sgw_versions o WHERE sgw_versions.version = 2 AND o.version = 1',
    );
    await expect(a.read(path, 2)).rejects.toMatchObject({ code: 'backend_error', reason: 'invalid' });
  });

  it('rotation: with the old key as previous, old rows stay readable and new rows use the new key', async () => {
    const url = await freshDatabase(cluster());
    const path = 'tfy-secret/acme/prod/rotated';
    await replica(url).write(path, 'under-the-old-key');
    const next = randomBytes(32);
    const rotated = new PostgresAdapter({ url, keyring: new Keyring(next, [KEY]), listen: false });
    open.push(rotated);
    expect(await rotated.read(path, 1)).toEqual({ value: 'under-the-old-key', version: 1 });
    expect(await rotated.write(path, 'under-the-new-key')).toBe(2);
    const rows = await sql<{ version: number; key_id: string }>(
      url,
      'SELECT version, key_id FROM sgw_versions ORDER BY version',
    );
    expect(rows).toEqual([
      { version: 1, key_id: keyIdOf(KEY) },
      { version: 2, key_id: keyIdOf(next) },
    ]);
  });

  it('a replica without the key of stored rows refuses to start, naming key ids only', async () => {
    const url = await freshDatabase(cluster());
    await replica(url).write('tfy-secret/acme/prod/k', 'value-under-key-1');
    const stranger = new PostgresAdapter({ url, keyring: new Keyring(randomBytes(32)), listen: false });
    open.push(stranger);
    await expect(stranger.ready).rejects.toMatchObject({ code: 'backend_error' });
    await expect(stranger.ready).rejects.toThrow(/key id\(s\) [0-9a-f]{16}/);
  });
});
