import { spawn } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  AlreadyExistsError,
  BackendError,
  BackendUnavailableError,
  InvalidRequestError,
  VersionConflictError,
} from '@secret-gateway/core';
import Database from 'better-sqlite3';
import * as vitest from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { runMetadataStoreConformance, SCHEMA_VERSION, SqliteMetadataStore } from '../src/index.ts';
import { sampleGroup, tempDir, tempFile } from './helpers.ts';

let conformanceFile = '';
runMetadataStoreConformance(vitest, {
  name: 'sqlite file',
  create: async () => {
    conformanceFile = tempFile();
    return new SqliteMetadataStore(conformanceFile);
  },
  cleanup: () => rmSync(dirname(conformanceFile), { recursive: true, force: true }),
});
runMetadataStoreConformance(vitest, {
  name: 'sqlite :memory:',
  create: async () => new SqliteMetadataStore(':memory:'),
});

/** Settles `promise` and returns what it rejected with (undefined when it resolved). */
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('SqliteMetadataStore on a file', () => {
  const open: Array<SqliteMetadataStore | Database.Database> = [];
  const track = <T extends SqliteMetadataStore | Database.Database>(handle: T): T => {
    open.push(handle);
    return handle;
  };
  afterEach(async () => {
    for (const handle of open.splice(0)) await handle.close();
  });

  it('finds everything again after a reopen', async () => {
    const file = tempFile();
    const first = new SqliteMetadataStore(file);
    const group = await first.createGroup(sampleGroup());
    const updated = await first.updateGroup(group.id, 1, {
      upsert: [{ key: 'NEW', version: 1 }],
      by: 'user:bob@example.com',
    });
    const keys = await first.listSecrets(group.id, { limit: 10, offset: 0 });
    await first.close();

    const again = track(new SqliteMetadataStore(file));
    expect(await again.getGroup(group.id)).toEqual(updated);
    expect(await again.getGroupByName('acme', 'payments')).toEqual(updated);
    expect(await again.listSecrets(group.id, { limit: 10, offset: 0 })).toEqual(keys);
    expect(await again.listGroups({ tenant: 'acme', visibleTo: ['team:ops'], limit: 10, offset: 0 })).toEqual(
      {
        items: [updated],
        total: 1,
      },
    );
  });

  it('creates the file readable by its owner only, in WAL mode with full sync and foreign keys', () => {
    const file = tempFile();
    track(new SqliteMetadataStore(file));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const peek = track(new Database(file, { readonly: true }));
    expect(peek.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(peek.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it("two stores on one file (two gateway processes) see each other's commits and conflict on revisions", async () => {
    const file = tempFile();
    const a = track(new SqliteMetadataStore(file));
    const b = track(new SqliteMetadataStore(file));
    const group = await a.createGroup(sampleGroup());
    expect(await b.getGroup(group.id)).toEqual(group);
    await vitest
      .expect(b.createGroup(sampleGroup({ integrationId: 'other' })))
      .rejects.toBeInstanceOf(AlreadyExistsError);

    // Both read revision 1; a commits first, so b's write is refused and applies nothing.
    const fromA = await a.updateGroup(group.id, 1, { upsert: [{ key: 'FROM_A', version: 1 }], by: 'user:a' });
    const error = await rejection(b.updateGroup(group.id, 1, { remove: ['DB_PASSWORD'], by: 'user:b' }));
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(await b.getGroup(group.id)).toEqual(fromA);
    expect((await b.listSecrets(group.id, { limit: 10, offset: 0 })).items.map((k) => k.key)).toEqual([
      'API_KEY',
      'DB_PASSWORD',
      'FROM_A',
    ]);

    // b retries from what it reads now, and a sees the result.
    const fromB = await b.updateGroup(group.id, fromA.revision, { remove: ['DB_PASSWORD'], by: 'user:b' });
    expect(await a.getGroup(group.id)).toEqual(fromB);
    expect(await b.deleteGroup(group.id)).toBe(true);
    expect(await a.getGroup(group.id)).toBeNull();
  });

  it('processes racing from one revision: exactly one update wins, the others conflict (none busy)', async () => {
    const file = tempFile();
    const store = track(new SqliteMetadataStore(file));
    const group = await store.createGroup(sampleGroup({ secrets: [] }));
    const script = resolve(import.meta.dirname, 'fixtures/update-once.mjs');
    const racers = Array.from({ length: 4 }, (_, i) => {
      const child = spawn(process.execPath, [script, file, group.id, '1', `racer${i}`], { stdio: 'pipe' });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const ready = new Promise<void>((done) =>
        child.stdout.on('data', () => out.includes('ready') && done()),
      );
      const exited = new Promise<string>((done) => child.on('exit', () => done(out)));
      return { child, ready, exited };
    });
    // Every process has the file open before any of them writes.
    await Promise.all(racers.map((r) => r.ready));
    for (const r of racers) r.child.stdin.end('go\n');
    const outcomes = (await Promise.all(racers.map((r) => r.exited))).map((out) =>
      JSON.parse(out.split('\n').filter(Boolean).at(-1) ?? '{}'),
    );
    expect(outcomes.filter((o) => o.won === 2)).toHaveLength(1);
    expect(outcomes.filter((o) => o.code === 'conflict')).toHaveLength(3);
    const after = await store.getGroup(group.id);
    expect(after?.revision).toBe(2);
    expect((await store.listSecrets(group.id, { limit: 10, offset: 0 })).total).toBe(1);
  }, 60_000);

  it('migration is idempotent: reopening (and a second process opening) keeps the schema and the data', async () => {
    const file = tempFile();
    const first = new SqliteMetadataStore(file);
    const group = await first.createGroup(sampleGroup());
    await first.close();
    for (let i = 0; i < 3; i++) await new SqliteMetadataStore(file).close();
    const peek = track(new Database(file, { readonly: true }));
    expect(peek.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const tables = peek
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(['collaborators', 'groups', 'pending_deletions', 'secret_keys']);
    expect(await track(new SqliteMetadataStore(file)).getGroup(group.id)).toEqual(group);
  });

  it('has no column that could hold a secret value', () => {
    const file = tempFile();
    track(new SqliteMetadataStore(file));
    const peek = track(new Database(file, { readonly: true }));
    const columns = peek.prepare("SELECT name FROM pragma_table_info('secret_keys')").pluck().all();
    expect(columns).toEqual([
      'id',
      'group_id',
      'key',
      'version',
      'created_by',
      'created_at',
      'updated_at',
      'updated_by',
    ]);
  });

  it('a file that is not a database fails with an error naming the file', () => {
    const file = tempFile();
    writeFileSync(
      file,
      'this is not a database, just some text long enough to fill a header page'.repeat(20),
    );
    const open = () => new SqliteMetadataStore(file);
    expect(open).toThrow(BackendError);
    expect(open).toThrow(file);
    expect(open).toThrow(/not a database/);
  });

  it('a path that cannot be opened (a directory) fails with an error naming it', () => {
    const dir = tempDir();
    expect(() => new SqliteMetadataStore(dir)).toThrow(dir);
  });

  it('a schema newer than this gateway is refused, naming the file', async () => {
    const file = tempFile();
    await new SqliteMetadataStore(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => new SqliteMetadataStore(file)).toThrow(new RegExp(`${file}.*newer than this gateway`));
  });

  it('a write lock held past the busy timeout is BackendUnavailableError busy; reads still work', async () => {
    const file = tempFile();
    const store = track(new SqliteMetadataStore(file, { busyTimeoutMs: 0 }));
    const group = await store.createGroup(sampleGroup());
    const other = track(new Database(file));
    other.exec('BEGIN IMMEDIATE');
    const update = await rejection(store.updateGroup(group.id, 1, { by: 'user:x' }));
    expect(update).toBeInstanceOf(BackendUnavailableError);
    expect((update as BackendUnavailableError).reason).toBe('busy');
    const create = await rejection(store.createGroup(sampleGroup({ name: 'other' })));
    expect((create as BackendUnavailableError).reason).toBe('busy');
    expect(await store.getGroup(group.id)).toEqual(group);
    other.exec('ROLLBACK');
    expect((await store.updateGroup(group.id, 1, { by: 'user:x' })).revision).toBe(2);
  });

  it('does what the interface leaves open as the README says: remove before upsert, the last duplicate wins', async () => {
    const store = track(new SqliteMetadataStore(':memory:'));
    const group = await store.createGroup(
      sampleGroup({
        secrets: [
          { key: 'twice', version: 1 },
          { key: 'twice', version: 4 },
        ],
      }),
    );
    const [first] = (await store.listSecrets(group.id, { limit: 10, offset: 0 })).items;
    expect(first).toMatchObject({ key: 'twice', version: 4 });
    const updated = await store.updateGroup(group.id, 1, {
      remove: ['twice'],
      upsert: [
        { key: 'twice', version: 5 },
        { key: 'twice', version: 6 },
      ],
      by: 'user:x',
    });
    const [replaced] = (await store.listSecrets(group.id, { limit: 10, offset: 0 })).items;
    expect(replaced).toMatchObject({ key: 'twice', version: 6, createdBy: 'user:x' });
    expect(replaced?.id).not.toBe(first?.id);
    expect((await store.updateGroup(group.id, updated.revision, { by: 'user:x' })).revision).toBe(3);
  });

  it('a negative or fractional limit or offset is InvalidRequestError, not an SQL error', async () => {
    const store = track(new SqliteMetadataStore(':memory:'));
    const group = await store.createGroup(sampleGroup());
    for (const page of [
      { limit: -1, offset: 0 },
      { limit: 1.5, offset: 0 },
      { limit: 10, offset: -1 },
      { limit: Number.NaN, offset: 0 },
    ]) {
      const list = await rejection(store.listGroups({ tenant: 'acme', ...page }));
      expect(list).toBeInstanceOf(InvalidRequestError);
      expect(await rejection(store.listSecrets(group.id, page))).toBeInstanceOf(InvalidRequestError);
    }
  });

  it('a closed store answers BackendUnavailableError, not a crash', async () => {
    const store = new SqliteMetadataStore(':memory:');
    await store.close();
    const error = await rejection(store.check());
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(await rejection(store.getGroup('sg_x'))).toBeInstanceOf(BackendUnavailableError);
  });

  describe('a statement failing halfway leaves nothing applied', () => {
    /** Makes every insert of the key `poison` fail inside SQLite, the way a full disk would fail one statement. */
    const poison = (file: string) => {
      const db = track(new Database(file));
      db.exec(`CREATE TRIGGER poison BEFORE INSERT ON secret_keys WHEN NEW.key = 'poison'
        BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    };

    it('updateGroup: collaborators, manifest, removals and the first upserts are rolled back', async () => {
      const file = tempFile();
      const store = track(new SqliteMetadataStore(file));
      const group = await store.createGroup(sampleGroup());
      const keys = await store.listSecrets(group.id, { limit: 10, offset: 0 });
      poison(file);
      const error = await rejection(
        store.updateGroup(group.id, 1, {
          collaborators: [{ subject: 'user:mallory@example.com', roleId: 'secret-group-admin' }],
          manifest: { replaced: true },
          remove: ['DB_PASSWORD'],
          upsert: [
            { key: 'API_KEY', version: 3 },
            { key: 'fine', version: 1 },
            { key: 'poison', version: 1 },
          ],
          by: 'user:mallory@example.com',
        }),
      );
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(await store.getGroup(group.id)).toEqual(group);
      expect(await store.listSecrets(group.id, { limit: 10, offset: 0 })).toEqual(keys);
      expect(
        await store.listGroups({
          tenant: 'acme',
          visibleTo: ['user:mallory@example.com'],
          limit: 10,
          offset: 0,
        }),
      ).toEqual({
        items: [],
        total: 0,
      });
    });

    it('createGroup: neither the group nor its collaborators nor its first keys are stored', async () => {
      const file = tempFile();
      const store = track(new SqliteMetadataStore(file));
      poison(file);
      const error = await rejection(
        store.createGroup(
          sampleGroup({
            secrets: [
              { key: 'first', version: 1 },
              { key: 'poison', version: 1 },
            ],
          }),
        ),
      );
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(await store.getGroupByName('acme', 'payments')).toBeNull();
      expect(await store.groupIntegrations()).toEqual([]);
      const peek = track(new Database(file, { readonly: true }));
      expect(
        peek
          .prepare('SELECT (SELECT count(*) FROM collaborators) + (SELECT count(*) FROM secret_keys)')
          .pluck()
          .get(),
      ).toBe(0);
      // The name is free: the failed attempt left no row behind.
      expect((await store.createGroup(sampleGroup({ secrets: [] }))).revision).toBe(1);
    });
  });
});
