import {
  AlreadyExistsError,
  BackendUnavailableError,
  SecretGatewayError,
  VersionConflictError,
} from '@secret-gateway/core';
import { type NewGroup, sampleGroup } from '@secret-gateway/groups';
import { afterEach, describe, expect, it } from 'vitest';
import { METADATA_SCHEMA_VERSION, PostgresMetadataStore } from '../src/index.ts';
import { freshDatabase, newAdapter, sql, until, useCluster } from './helpers.ts';

const cluster = useCluster();
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** One gateway replica's metadata store. */
function replica(url: string, timeoutMs = 2000): PostgresMetadataStore {
  const store = new PostgresMetadataStore({ url, timeoutMs });
  open.push(store);
  return store;
}

const group = (overrides: Partial<NewGroup> = {}): NewGroup => sampleGroup('acme', overrides);

/** What `promise` rejected with (undefined when it resolved). */
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('PostgresMetadataStore: several replicas on one database', () => {
  it('stores starting at once on an empty database (with the secrets adapter) migrate once and all start', async () => {
    const url = await freshDatabase(cluster());
    const stores = Array.from({ length: 6 }, () => replica(url));
    const adapter = newAdapter(url, { listen: false });
    open.push(adapter);
    await Promise.all([...stores.map((s) => s.ready), adapter.ready]);
    expect(await sql(url, 'SELECT version FROM sgw_groups_schema')).toEqual([
      { version: METADATA_SCHEMA_VERSION },
    ]);
    expect(await sql(url, 'SELECT version FROM sgw_schema')).toEqual([{ version: 1 }]);
    // A later start on the migrated database is a no-op.
    await replica(url).ready;
    expect(await sql(url, 'SELECT count(*)::int AS n FROM sgw_groups_schema')).toEqual([{ n: 1 }]);
  });

  it("each replica sees the other's commits: create, update, delete", async () => {
    const url = await freshDatabase(cluster());
    const [a, b] = [replica(url), replica(url)] as const;
    const created = await a.createGroup(group({ secrets: [{ key: 'db-password', version: 1 }] }));
    expect(await b.getGroup(created.id)).toEqual(created);
    expect((await b.listGroups({ tenant: 'acme', limit: 10, offset: 0 })).items).toEqual([created]);
    const updated = await b.updateGroup(created.id, created.revision, {
      upsert: [{ key: 'db-password', version: 2 }],
      by: 'user:bob@example.com',
    });
    expect(await a.getGroup(created.id)).toEqual(updated);
    const [key] = (await a.listSecrets(created.id, { limit: 10, offset: 0 })).items;
    expect(key).toMatchObject({ key: 'db-password', version: 2, updatedBy: 'user:bob@example.com' });
    expect(await a.groupIntegrations()).toEqual([
      { tenant: 'acme', name: created.name, integrationId: 'default' },
    ]);
    expect(await a.deleteGroup(created.id)).toBe(true);
    expect(await b.getGroup(created.id)).toBeNull();
    expect(await b.deleteGroup(created.id)).toBe(false);
  });

  it('concurrent updates from one revision on two replicas: exactly one wins', async () => {
    const url = await freshDatabase(cluster());
    const [a, b] = [replica(url), replica(url)] as const;
    const created = await a.createGroup(group());
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? a : b).updateGroup(created.id, created.revision, {
          upsert: [{ key: `k${i}`, version: 1 }],
          by: `user:u${i}@example.com`,
        }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
    const after = await b.getGroup(created.id);
    expect(after?.revision).toBe(created.revision + 1);
    expect((await a.listSecrets(created.id, { limit: 20, offset: 0 })).total).toBe(1);
  });

  it('the same name created on two replicas at once: one group, the other AlreadyExistsError', async () => {
    const url = await freshDatabase(cluster());
    const [a, b] = [replica(url), replica(url)] as const;
    const results = await Promise.allSettled(
      [a, b, a, b].map((s) => s.createGroup(group({ name: 'shared' }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      const reason = (r as PromiseRejectedResult).reason as Error;
      expect(reason).toBeInstanceOf(AlreadyExistsError);
      // Our words, never the driver's (its unique-violation text quotes the row).
      expect(reason.message).toBe('secret group already exists: acme:shared');
    }
    expect((await a.listGroups({ tenant: 'acme', limit: 10, offset: 0 })).total).toBe(1);
  });

  it('a manifest comes back with its keys in the order given; a key repeated in one change is upserted once, the last wins', async () => {
    const url = await freshDatabase(cluster());
    const store = replica(url);
    const manifest = { zeta: 1, alpha: { b: 2, a: 1 }, mid: [3, 1] };
    const created = await store.createGroup(
      group({
        manifest,
        secrets: [
          { key: 'dup', version: 1 },
          { key: 'dup', version: 3 },
        ],
      }),
    );
    expect(JSON.stringify((await store.getGroup(created.id))?.manifest)).toBe(JSON.stringify(manifest));
    expect((await store.listSecrets(created.id, { limit: 10, offset: 0 })).items).toMatchObject([
      { key: 'dup', version: 3 },
    ]);
  });
});

describe('PostgresMetadataStore: the database restarted', () => {
  it('calls fail with BackendUnavailableError while it is down; the same store recovers', async () => {
    const url = await freshDatabase(cluster());
    const store = replica(url, 1000);
    const kept = await store.createGroup(group({ name: 'kept' }));
    await cluster().stop();
    try {
      for (const call of [
        store.getGroup(kept.id),
        store.check(),
        store.createGroup(group()),
        store.updateGroup(kept.id, kept.revision, { by: 'user:x@example.com' }),
      ]) {
        const error = await rejection(call);
        expect(error).toBeInstanceOf(BackendUnavailableError);
        expect((error as BackendUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await cluster().start();
    }
    // The pool's connections died with the server: the first calls may still fail, then it serves.
    await until(
      async () => (await rejection(store.check())) === undefined,
      20_000,
      'the store serving again',
    );
    expect(await store.getGroup(kept.id)).toEqual(kept);
    const updated = await store.updateGroup(kept.id, kept.revision, { by: 'user:x@example.com' });
    expect(updated.revision).toBe(kept.revision + 1);
  }, 60_000);

  it('a store started while the database is down migrates and serves once it is up', async () => {
    const url = await freshDatabase(cluster());
    await cluster().stop();
    let store: PostgresMetadataStore;
    try {
      store = replica(url, 1000);
      const error = await rejection(store.listGroups({ tenant: 'acme', limit: 10, offset: 0 }));
      expect(SecretGatewayError.isInstance(error) && error.code).toBe('backend_unavailable');
    } finally {
      await cluster().start();
    }
    const created = await store.createGroup(group());
    expect(await store.getGroupByName('acme', created.name)).toEqual(created);
  }, 60_000);
});
