import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SecretGatewayError } from '@secret-gateway/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GroupCommit, type GroupCommitOptions } from '../src/group-commit.ts';
import { Keyring } from '../src/index.ts';
import { WalSync } from '../src/wal-sync.ts';
import { newAdapter, tempDir } from './helpers.ts';

/** Settles every promise; never rejects (so no expectation hides in a catch). */
function settle<T>(calls: Promise<T>[]) {
  return Promise.allSettled(calls);
}

/** Every change failed as the store being unavailable, and no message names `value`. */
function expectAllUnavailable(outcomes: PromiseSettledResult<unknown>[], value?: string) {
  for (const outcome of outcomes) {
    expect(outcome.status).toBe('rejected');
    const reason = (outcome as PromiseRejectedResult).reason;
    expect(SecretGatewayError.isInstance(reason) && reason.code).toBe('backend_unavailable');
    if (value !== undefined) expect(String(reason.message)).not.toContain(value);
  }
}

/** GroupCommit on a plain WAL database with one table `t (n)`, and its insert statement. */
function plainGroup(checkpoint?: GroupCommitOptions['checkpoint']) {
  const file = join(tempDir(), 'plain.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER)');
  const wal = new WalSync(file);
  const group = new GroupCommit(db, (error) => error, {
    sync: () => wal.sync(),
    syncNow: () => wal.syncNow(),
    syncError: (error) => error,
    ...(checkpoint ? { checkpoint } : {}),
  });
  return { db, wal, group, insert: db.prepare('INSERT INTO t (n) VALUES (?)') };
}

describe('group commit', () => {
  it('changes made in one turn share one commit, with distinct increasing versions per path', async () => {
    const a = newAdapter();
    const before = { ...a.groupCommitStats };
    const writes = [
      a.write('tfy-secret/g/one', 'a1'),
      a.write('tfy-secret/g/two', 'b1'),
      a.write('tfy-secret/g/one', 'a2'),
      a.write('tfy-secret/g/one', 'a3'),
      a.write('tfy-secret/g/two', 'b2'),
    ];
    expect(await Promise.all(writes)).toEqual([1, 1, 2, 3, 2]);
    expect(a.groupCommitStats.commits - before.commits).toBe(1);
    expect(a.groupCommitStats.changes - before.changes).toBe(5);
    expect(await a.read('tfy-secret/g/one', 2)).toEqual({ version: 2, value: 'a2' });
    expect(await a.read('tfy-secret/g/one', undefined)).toEqual({ version: 3, value: 'a3' });

    // Deletes join too, in arrival order: the delete-all comes after the write before it.
    const mixed = [
      a.write('tfy-secret/g/two', 'b3'),
      a.deleteVersion('tfy-secret/g/one', 1),
      a.deleteSecret('tfy-secret/g/two'),
      a.write('tfy-secret/g/two', 'fresh'),
    ];
    expect(await Promise.all(mixed)).toEqual([3, true, true, 1]);
    expect(a.groupCommitStats.commits - before.commits).toBe(2);
    expect(await a.read('tfy-secret/g/one', 1)).toBeNull();
    expect(await a.read('tfy-secret/g/two', undefined)).toEqual({ version: 1, value: 'fresh' });
    await a.close();
  });

  it('a change that fails is rolled back alone; the others in its batch commit', async () => {
    const dir = tempDir();
    const a = newAdapter(dir);
    // A real SQLite error for one path only, raised in the middle of that write's statements.
    a.db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON versions WHEN NEW.path = 'tfy-secret/g/bad'
      BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    await a.write('tfy-secret/g/ok', 'v1');
    const [first, bad, second] = await settle([
      a.write('tfy-secret/g/ok', 'v2'),
      a.write('tfy-secret/g/bad', 'never'),
      a.write('tfy-secret/g/ok', 'v3'),
    ]);
    expect(first).toEqual({ status: 'fulfilled', value: 2 });
    expect(second).toEqual({ status: 'fulfilled', value: 3 });
    expect(bad?.status).toBe('rejected');
    const reason = (bad as PromiseRejectedResult).reason;
    expect(SecretGatewayError.isInstance(reason) && reason.code).toBe('backend_unavailable');
    expect(String(reason.message)).not.toContain('never');
    // Nothing of the failed write stays: not even the row its first statement made.
    expect(a.db.prepare("SELECT count(*) FROM secrets WHERE path = 'tfy-secret/g/bad'").pluck().get()).toBe(
      0,
    );
    await a.close();
    // Another connection sees what was acknowledged: it was committed.
    const other = new Database(join(dir, 'secrets.db'), { readonly: true });
    expect(
      other.prepare("SELECT max(version) FROM versions WHERE path = 'tfy-secret/g/ok'").pluck().get(),
    ).toBe(3);
    other.close();
  });

  it('each change runs under its own savepoint: what a failed one did before it threw is undone', async () => {
    const { db, wal, group, insert } = plainGroup();
    const outcomes = await settle([
      group.enqueue('t', () => insert.run(1).changes),
      group.enqueue('t', () => {
        insert.run(2);
        throw new Error('second statement failed');
      }),
      group.enqueue('t', () => insert.run(3).changes),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT n FROM t ORDER BY n').pluck().all()).toEqual([1, 3]);
    expect(group.stats).toEqual({ commits: 1, changes: 3 });
    db.close();
    wal.close();
  });

  it('while the checkpointer has a stall, no commit starts; queued changes commit once it ends', async () => {
    let end: () => void = () => undefined;
    const checkpoint = {
      commits: 0,
      stall: undefined as Promise<void> | undefined,
      committed() {
        this.commits++;
      },
    };
    const { db, wal, group, insert } = plainGroup(checkpoint);
    await group.enqueue('t', () => insert.run(1).changes);
    expect(checkpoint.commits).toBe(1);
    checkpoint.stall = new Promise<void>((resolve) => {
      end = () => {
        checkpoint.stall = undefined;
        resolve();
      };
    });
    let done = false;
    const queued = Promise.all([2, 3].map((n) => group.enqueue('t', () => insert.run(n).changes))).then(
      () => {
        done = true;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect({ done, commits: group.stats.commits }).toEqual({ done: false, commits: 1 });
    end();
    await queued;
    expect(group.stats).toEqual({ commits: 2, changes: 3 });
    expect(checkpoint.commits).toBe(2);
    db.close();
    wal.close();
  });

  it('when the batch cannot commit (another process holds the lock), every change in it fails', async () => {
    const dir = tempDir();
    const a = newAdapter(dir, undefined, { busyTimeoutMs: 20 });
    const holder = new Database(join(dir, 'secrets.db'));
    holder.exec('BEGIN IMMEDIATE');
    const outcomes = await settle<unknown>([
      a.write('tfy-secret/g/x', '1'),
      a.deleteSecret('tfy-secret/g/y'),
    ]);
    expectAllUnavailable(outcomes);
    holder.exec('ROLLBACK');
    holder.close();
    expect(await a.read('tfy-secret/g/x', undefined)).toBeNull();
    expect(await a.write('tfy-secret/g/x', '2')).toBe(1);
    await a.close();
  });

  it('close() commits what is queued before the file closes', async () => {
    const dir = tempDir();
    const keyring = new Keyring(randomBytes(32));
    const a = newAdapter(dir, keyring);
    const queued = [a.write('tfy-secret/g/late', 'x'), a.write('tfy-secret/g/late', 'y')];
    await a.close();
    expect(await Promise.all(queued)).toEqual([1, 2]);
    const reopened = newAdapter(dir, keyring);
    expect(await reopened.read('tfy-secret/g/late', undefined)).toEqual({ version: 2, value: 'y' });
    await reopened.close();
  });

  it('a change whose deadline passed while it was queued is not made', async () => {
    const a = newAdapter();
    const controller = new AbortController();
    const write = a.write('tfy-secret/g/late', 'x', { signal: controller.signal });
    const kept = a.write('tfy-secret/g/kept', 'y');
    controller.abort(new Error('deadline'));
    const [dropped, committed] = await settle([write, kept]);
    expect(dropped).toEqual({ status: 'rejected', reason: new Error('deadline') });
    expect(committed).toEqual({ status: 'fulfilled', value: 1 });
    expect(await a.read('tfy-secret/g/late', undefined)).toBeNull();

    // SecretService's calls carry the deadline as a time too: read without making an AbortController.
    const signal = new AbortController().signal;
    const options = {
      deadline: performance.now() - 1,
      get signal(): AbortSignal {
        throw new Error('the signal was read');
      },
    };
    const [timedOut] = await settle([a.write('tfy-secret/g/past', 'x', options)]);
    expect(timedOut?.status).toBe('rejected');
    expect((timedOut as PromiseRejectedResult).reason).toMatchObject({ code: 'backend_unavailable' });
    expect(await a.read('tfy-secret/g/past', undefined)).toBeNull();
    expect(await a.write('tfy-secret/g/past', 'y', { deadline: performance.now() + 60_000, signal })).toBe(1);
    await a.close();
  });

  it('more changes than one batch holds are split into several commits, none lost', async () => {
    const a = newAdapter();
    const before = { ...a.groupCommitStats };
    const versions = await Promise.all(
      Array.from({ length: 600 }, (_, i) => a.write('tfy-secret/g/many', `v${i}`)),
    );
    expect(versions).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(a.groupCommitStats.commits - before.commits).toBe(2);
    await a.close();
  });

  it('runs with synchronous = NORMAL and one WAL fsync per commit, off the event loop', async () => {
    const syncs: number[] = [];
    const a = newAdapter(undefined, undefined, {
      wrapSync: (sync) => () => {
        syncs.push(Date.now());
        return sync();
      },
    });
    // 1 = NORMAL: COMMIT writes the WAL without syncing it; the fsync is the group commit's own.
    expect(a.db.pragma('synchronous', { simple: true })).toBe(1);
    await Promise.all([a.write('tfy-secret/g/a', '1'), a.write('tfy-secret/g/b', '1')]);
    await Promise.all([a.write('tfy-secret/g/a', '2'), a.deleteSecret('tfy-secret/g/b')]);
    expect(a.groupCommitStats.commits).toBe(2);
    expect(syncs).toHaveLength(2);
    await a.close();
    // Off: FULL (2), every COMMIT syncs by itself.
    const single = newAdapter(undefined, undefined, { groupCommit: false });
    expect(single.db.pragma('synchronous', { simple: true })).toBe(2);
    await single.close();
  });

  it('acknowledges a change only after its fsync; meanwhile reads of that path wait, others do not', async () => {
    const dir = tempDir();
    let release: () => void = () => undefined;
    let syncing = 0;
    const a = newAdapter(dir, undefined, {
      wrapSync: (sync) => () => {
        syncing++;
        return new Promise<void>((resolve) => {
          release = () => void sync().then(resolve);
        });
      },
    });
    const first = a.write('tfy-secret/g/other', 'o1');
    await vi.waitFor(() => expect(syncing).toBe(1));
    release();
    await first;
    let acknowledged = false;
    const write = a.write('tfy-secret/g/held', 'secret-v1').then((version) => {
      acknowledged = true;
      return version;
    });
    await vi.waitFor(() => expect(syncing).toBe(2));
    // Committed (another connection sees it) but not yet synced: no acknowledgement, and this
    // process does not serve it either.
    const other = new Database(join(dir, 'secrets.db'), { readonly: true });
    expect(
      other.prepare("SELECT count(*) FROM versions WHERE path = 'tfy-secret/g/held'").pluck().get(),
    ).toBe(1);
    other.close();
    let read = false;
    const reading = a.read('tfy-secret/g/held', undefined).then((found) => {
      read = true;
      return found;
    });
    expect(await a.read('tfy-secret/g/other', undefined)).toEqual({ version: 1, value: 'o1' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect({ acknowledged, read }).toEqual({ acknowledged: false, read: false });
    release();
    expect(await write).toBe(1);
    expect(await reading).toEqual({ version: 1, value: 'secret-v1' });
    await a.close();
  });

  it('an fsync that fails fails every change of its batch; the next batch is synced again', async () => {
    let failNext = true;
    const a = newAdapter(undefined, undefined, {
      wrapSync: (sync) => () => {
        if (!failNext) return sync();
        failNext = false;
        return Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      },
    });
    const outcomes = await settle<unknown>([
      a.write('tfy-secret/g/x', 'never-acknowledged'),
      a.deleteSecret('tfy-secret/g/y'),
    ]);
    expectAllUnavailable(outcomes, 'never-acknowledged');
    // The store may hold the change (it was committed, its durability is unknown); the next write
    // gets the next version and is acknowledged after its own fsync.
    expect(await a.write('tfy-secret/g/x', 'v2')).toBe(2);
    await a.close();
  });

  it('with group commit off, every change commits on its own before its promise returns', async () => {
    const a = newAdapter(undefined, undefined, { groupCommit: false });
    expect(a.capabilities.synchronous).toBe(true);
    expect(await Promise.all([a.write('tfy-secret/g/s', '1'), a.write('tfy-secret/g/s', '2')])).toEqual([
      1, 2,
    ]);
    expect(a.groupCommitStats).toEqual({ commits: 0, changes: 0 });
    await a.close();
  });

  describe('with another process on the file', () => {
    afterEach(() => vi.useRealTimers());

    it('acknowledges no sooner than the change window after the commit became visible', async () => {
      let synced = 0;
      const a = newAdapter(undefined, undefined, {
        changeCheckMs: 50,
        wrapSync: (sync) => () => sync().then(() => void synced++),
      });
      expect(a.capabilities.holdsBackAcknowledgements).toBe(true);
      vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
      let done = false;
      const write = a.write('tfy-secret/g/held', 'v').then(() => {
        done = true;
      });
      // Real time passes (vi.waitFor would move the fake clock): setImmediate is not faked.
      while (synced === 0) await new Promise((resolve) => setImmediate(resolve));
      await vi.advanceTimersByTimeAsync(49);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await write;
      expect(done).toBe(true);
      vi.useRealTimers();
      await a.close();
    });
  });
});
