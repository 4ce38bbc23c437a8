import { ISO_UTC_MS, type SuiteContext } from '../conformance.ts';

export function secrets({
  runner: { describe, expect },
  store,
  freshTenant,
  newGroup,
  test,
}: SuiteContext): void {
  const all = { limit: 100, offset: 0 };

  describe('secret keys', () => {
    test('the first keys are committed with the group', async () => {
      const group = await store().createGroup(
        newGroup(freshTenant(), {
          createdBy: 'user:alice@example.com',
          secrets: [
            { key: 'DB_PASSWORD', version: 1 },
            { key: 'API_KEY', version: 3 },
          ],
        }),
      );
      const page = await store().listSecrets(group.id, all);
      expect(page.total).toBe(2);
      expect(page.items).toEqual([
        {
          id: expect.any(String),
          groupId: group.id,
          key: 'API_KEY',
          version: 3,
          createdBy: 'user:alice@example.com',
          createdAt: group.createdAt,
          updatedAt: group.createdAt,
          updatedBy: 'user:alice@example.com',
        },
        expect.objectContaining({ key: 'DB_PASSWORD', version: 1, groupId: group.id }),
      ]);
      for (const item of page.items) {
        expect(item.createdAt).toMatch(ISO_UTC_MS);
        expect(await store().getSecret(item.id)).toEqual(item);
      }
    });

    test('upserting an existing key keeps id, createdAt and createdBy; changes version, updatedAt and updatedBy', async () => {
      const group = await store().createGroup(
        newGroup(freshTenant(), { createdBy: 'user:alice@example.com', secrets: [{ key: 'k', version: 1 }] }),
      );
      const [original] = (await store().listSecrets(group.id, all)).items;
      if (!original) throw new Error('the first key is missing');
      const before = new Date().toISOString();
      await store().updateGroup(group.id, 1, {
        upsert: [{ key: 'k', version: 2 }],
        by: 'user:bob@example.com',
      });
      const changed = await store().getSecret(original.id);
      expect(changed).toEqual({
        ...original,
        version: 2,
        updatedBy: 'user:bob@example.com',
        updatedAt: expect.stringMatching(ISO_UTC_MS),
      });
      expect((changed?.updatedAt ?? '') >= before).toBe(true);
    });

    test('keysOfGroups (when implemented) gives each group exactly what listSecrets gives it', async () => {
      const keysOfGroups = store().keysOfGroups?.bind(store());
      if (!keysOfGroups) return; // optional: GroupService pages through listSecrets without it
      const tenant = freshTenant();
      const a = await store().createGroup(
        newGroup(tenant, {
          name: 'a',
          secrets: [
            { key: 'Z', version: 1 },
            { key: 'B', version: 2 },
            { key: 'M', version: 3 },
          ],
        }),
      );
      const b = await store().createGroup(
        newGroup(tenant, { name: 'b', secrets: [{ key: 'ONLY', version: 1 }] }),
      );
      const empty = await store().createGroup(newGroup(tenant, { name: 'empty' }));
      const other = await store().createGroup(
        newGroup(tenant, { name: 'other', secrets: [{ key: 'X', version: 1 }] }),
      );
      const found = await keysOfGroups([a.id, empty.id, b.id, 'sg_missing']);
      expect([...found.keys()].sort()).toEqual([a.id, b.id, empty.id, 'sg_missing'].sort());
      expect(found.get(a.id)).toEqual((await store().listSecrets(a.id, all)).items);
      expect(found.get(a.id)?.map((s) => s.key)).toEqual(['B', 'M', 'Z']);
      expect(found.get(b.id)).toEqual((await store().listSecrets(b.id, all)).items);
      expect(found.get(empty.id)).toEqual([]);
      expect(found.get('sg_missing')).toEqual([]);
      expect(found.has(other.id)).toBe(false);
      expect(await keysOfGroups([])).toEqual(new Map());
    });

    test('a key added by an update is created by the updater', async () => {
      const group = await store().createGroup(
        newGroup(freshTenant(), { createdBy: 'user:alice@example.com' }),
      );
      await store().updateGroup(group.id, 1, {
        upsert: [{ key: 'added', version: 1 }],
        by: 'user:bob@example.com',
      });
      const [added] = (await store().listSecrets(group.id, all)).items;
      expect(added).toMatchObject({
        key: 'added',
        version: 1,
        createdBy: 'user:bob@example.com',
        updatedBy: 'user:bob@example.com',
      });
    });

    test('a removed key is gone; added again, it gets a new id', async () => {
      const group = await store().createGroup(
        newGroup(freshTenant(), { secrets: [{ key: 'k', version: 1 }] }),
      );
      const [first] = (await store().listSecrets(group.id, all)).items;
      await store().updateGroup(group.id, 1, { remove: ['k'], by: 'user:x' });
      expect(await store().getSecret(first?.id ?? '')).toBeNull();
      expect(await store().listSecrets(group.id, all)).toEqual({ items: [], total: 0 });
      await store().updateGroup(group.id, 2, { upsert: [{ key: 'k', version: 2 }], by: 'user:x' });
      const [second] = (await store().listSecrets(group.id, all)).items;
      expect(second?.key).toBe('k');
      expect(second?.id).not.toBe(first?.id);
      expect(await store().getSecret(first?.id ?? '')).toBeNull();
    });

    test('removing a key that is not there is ignored', async () => {
      const group = await store().createGroup(
        newGroup(freshTenant(), { secrets: [{ key: 'k', version: 1 }] }),
      );
      const updated = await store().updateGroup(group.id, 1, { remove: ['absent'], by: 'user:x' });
      expect(updated.revision).toBe(2);
      expect((await store().listSecrets(group.id, all)).items.map((k) => k.key)).toEqual(['k']);
    });

    test('keys of one group do not show in another, even with the same key name', async () => {
      const tenant = freshTenant();
      const a = await store().createGroup(newGroup(tenant, { secrets: [{ key: 'same', version: 1 }] }));
      const b = await store().createGroup(newGroup(tenant, { secrets: [{ key: 'same', version: 5 }] }));
      await store().updateGroup(a.id, 1, { remove: ['same'], by: 'user:x' });
      const [inB] = (await store().listSecrets(b.id, all)).items;
      expect(inB).toMatchObject({ groupId: b.id, key: 'same', version: 5 });
      expect((await store().listSecrets(a.id, all)).total).toBe(0);
    });

    test('listSecrets sorts by key and pages with limit and offset; total counts all', async () => {
      const group = await store().createGroup(
        newGroup(freshTenant(), {
          secrets: ['e', 'c', 'a', 'd', 'b'].map((key) => ({ key, version: 1 })),
        }),
      );
      const keys = async (limit: number, offset: number) => {
        const page = await store().listSecrets(group.id, { limit, offset });
        return { keys: page.items.map((k) => k.key), total: page.total };
      };
      expect(await keys(10, 0)).toEqual({ keys: ['a', 'b', 'c', 'd', 'e'], total: 5 });
      expect(await keys(2, 1)).toEqual({ keys: ['b', 'c'], total: 5 });
      expect(await keys(2, 4)).toEqual({ keys: ['e'], total: 5 });
      expect(await keys(2, 9)).toEqual({ keys: [], total: 5 });
    });

    test('an unknown group has no keys; an unknown key id reads as null', async () => {
      expect(await store().listSecrets('sg_doesnotexist', all)).toEqual({ items: [], total: 0 });
      expect(await store().getSecret('sec_doesnotexist')).toBeNull();
    });
  });
}
