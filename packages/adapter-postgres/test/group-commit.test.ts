import { afterEach, describe, expect, it } from 'vitest';
import type { PostgresAdapter } from '../src/index.ts';
import { freshDatabase, lockRow, newAdapter, sql, until, useCluster } from './helpers.ts';

const cluster = useCluster();
const open: Array<{ close?: () => Promise<void>; end?: () => Promise<void> }> = [];
afterEach(async () => {
  for (const c of open.splice(0)) await (c.close ?? c.end)?.call(c).catch(() => undefined);
});

async function setUp(options = {}): Promise<{ url: string; adapter: PostgresAdapter }> {
  const url = await freshDatabase(cluster());
  const adapter = newAdapter(url, { listen: false, ...options });
  open.push(adapter);
  await adapter.ready;
  return { url, adapter };
}

type Row = { path: string; version: number; xid: string };
const rows = (url: string) =>
  sql<Row>(url, 'SELECT path, version, xmin::text AS xid FROM sgw_versions ORDER BY path, version');

const P = 'tfy-secret/acme/prod';

/** Sessions of this database waiting for a lock. */
async function lockWaiters(url: string): Promise<number> {
  const [row] = await sql<{ n: number }>(
    url,
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return row?.n ?? 0;
}

describe('group commit', () => {
  it('writes issued in one turn share one transaction; each path gets 1, 2, 3... in arrival order', async () => {
    const { url, adapter } = await setUp();
    const order = ['a', 'b', 'a', 'c', 'a', 'b', 'a', 'c', 'c', 'a'].map((name) => `${P}/${name}`);
    const before = adapter.groupCommitStats.commits;
    const versions = await Promise.all(order.map((path, i) => adapter.write(path, `value-${i}`)));
    // The nth write to a path (in the order issued) gets version n.
    const seen = new Map<string, number>();
    const expected = order.map((path) => {
      seen.set(path, (seen.get(path) ?? 0) + 1);
      return seen.get(path);
    });
    expect(versions).toEqual(expected);
    expect(adapter.groupCommitStats.commits - before).toBe(1);
    const stored = await rows(url);
    expect(stored).toHaveLength(order.length);
    expect(new Set(stored.map((r) => r.xid)).size).toBe(1);
    for (const [i, path] of order.entries())
      expect(await adapter.read(path, versions[i])).toEqual({ value: `value-${i}`, version: versions[i] });
    // A later batch goes on from there.
    expect(await adapter.write(`${P}/a`, 'next')).toBe(6);
  });

  it('a batch is capped at 512 writes', async () => {
    const { adapter } = await setUp();
    const before = adapter.groupCommitStats.commits;
    const versions = await Promise.all(
      Array.from({ length: 600 }, (_, i) => adapter.write(`${P}/many/${i % 50}`, `v${i}`)),
    );
    expect(adapter.groupCommitStats.commits - before).toBe(2);
    expect(new Set(versions.map((v, i) => `${i % 50}:${v}`)).size).toBe(600);
  });

  it('with group commit off, each write is its own transaction', async () => {
    const { url, adapter } = await setUp({ groupCommit: false });
    await Promise.all(['x', 'y', 'z'].map((name) => adapter.write(`${P}/${name}`, name)));
    expect(new Set((await rows(url)).map((r) => r.xid)).size).toBe(3);
    expect(adapter.groupCommitStats).toEqual({ commits: 0, writes: 0 });
  });

  it('a batch whose transaction fails rejects every write in it and stores nothing of it', async () => {
    const { url, adapter } = await setUp();
    // The insert of one row fails after the versions were allocated: everything must roll back.
    await sql(
      url,
      `CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.path LIKE '%/poison' THEN RAISE EXCEPTION 'refused %', NEW.path; END IF; RETURN NEW; END $$;
       CREATE TRIGGER poison BEFORE INSERT ON sgw_versions FOR EACH ROW EXECUTE FUNCTION poison()`,
    );
    const paths = ['one', 'poison', 'two', 'one'].map((name) => `${P}/${name}`);
    const results = await Promise.allSettled(
      paths.map((path, i) => adapter.write(path, `secret-value-${i}`)),
    );
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason;
      expect(error).toMatchObject({
        code: 'backend_error',
        reason: 'unexpected',
        detail: { backendCode: 'P0001' },
      });
      expect(String(error.message)).not.toMatch(/secret-value|poison/);
    }
    expect(await sql(url, 'SELECT * FROM sgw_versions')).toEqual([]);
    expect(await sql(url, 'SELECT * FROM sgw_secrets')).toEqual([]);
    await sql(url, 'DROP TRIGGER poison ON sgw_versions');
    expect(await adapter.write(`${P}/one`, 'after')).toBe(1);
  });

  it('two replicas batching writes to the same paths in opposite orders get distinct versions, no deadlock', async () => {
    const { url, adapter: a } = await setUp();
    const b = newAdapter(url, { listen: false });
    open.push(b);
    const paths = Array.from({ length: 8 }, (_, i) => `${P}/shared/${i}`);
    await Promise.all(paths.map((path) => a.write(path, 'seed')));
    // A third party holds a middle row, so both batches are mid-way through taking their locks when
    // it lets go: taken in each batch's own order, they would deadlock (40P01) at that point.
    const holder = await lockRow(url, paths[4] as string, open);
    const acknowledged: Array<{ path: string; value: string; version: number }> = [];
    const jobs = [a, b].flatMap((adapter, side) =>
      (side === 0 ? paths : [...paths].reverse()).flatMap((path) =>
        [0, 1].map(async (k) => {
          const value = `${path}#${side}.${k}`;
          acknowledged.push({ path, value, version: await adapter.write(path, value) });
        }),
      ),
    );
    await until(async () => (await lockWaiters(url)) === 2, 10_000, 'both batches waiting on a row lock');
    await holder.release();
    await Promise.all(jobs);
    for (const path of paths) {
      const versions = acknowledged.filter((w) => w.path === path).map((w) => w.version);
      expect(versions.sort((x, y) => x - y)).toEqual([2, 3, 4, 5]);
    }
    for (const w of acknowledged)
      expect(await b.read(w.path, w.version)).toEqual({ value: w.value, version: w.version });
  });

  it('a write whose deadline passes while its batch waits is left out; the rest of the batch commits', async () => {
    const { url, adapter } = await setUp({ backendTimeoutMs: 30_000 });
    const locked = `${P}/locked`;
    await adapter.write(locked, 'seed');
    // Another replica holds the path's row lock, so the batch waits in its allocate statement.
    const holder = await lockRow(url, locked, open);
    const abandoned = adapter.write(locked, 'abandoned', { signal: AbortSignal.timeout(200) });
    const other = adapter.write(`${P}/other`, 'other');
    await expect(abandoned).rejects.toMatchObject({ code: 'backend_unavailable', reason: 'timeout' });
    await holder.release();
    expect(await other).toBe(1);
    expect(await adapter.read(locked, undefined)).toEqual({ value: 'seed', version: 1 });
    expect(await adapter.write(locked, 'next')).toBe(2);
  });

  it('a write whose deadline passed before its batch began is not made', async () => {
    const { adapter } = await setUp();
    const path = `${P}/late`;
    const late = adapter.write(path, 'late', { signal: AbortSignal.abort() });
    const onTime = adapter.write(path, 'on time');
    await expect(late).rejects.toMatchObject({ code: 'backend_unavailable', reason: 'timeout' });
    expect(await onTime).toBe(1);
    expect(await adapter.read(path, undefined)).toEqual({ value: 'on time', version: 1 });
  });

  it('close() commits the writes already queued before the pool ends', async () => {
    const { url, adapter } = await setUp();
    const writes = ['p', 'q', 'r'].map((name) => adapter.write(`${P}/${name}`, name));
    await adapter.close();
    expect(await Promise.all(writes)).toEqual([1, 1, 1]);
    expect(await rows(url)).toHaveLength(3);
  });
});
