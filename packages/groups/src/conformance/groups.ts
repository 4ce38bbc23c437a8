import { AlreadyExistsError } from '@secret-gateway/core';
import { ISO_UTC_MS, type SuiteContext } from '../conformance.ts';

export function groups({
  runner: { describe, expect },
  store,
  freshTenant,
  newGroup,
  test,
  rejects,
}: SuiteContext): void {
  describe('create, get, delete', () => {
    test('createGroup returns the record, and getGroup and getGroupByName return the same', async () => {
      const tenant = freshTenant();
      const input = newGroup(tenant, {
        name: 'payments',
        integrationId: 'vault-main',
        collaborators: [
          { subject: 'user:alice@example.com', roleId: 'secret-group-admin' },
          { subject: 'team:payments', roleId: 'secret-group-editor' },
          { subject: 'serviceaccount:ci', roleId: 'secret-group-viewer' },
        ],
        createdBy: 'user:alice@example.com',
      });
      const created = await store().createGroup(input);
      expect(created).toEqual({
        id: expect.any(String),
        tenant,
        name: 'payments',
        integrationId: 'vault-main',
        collaborators: input.collaborators,
        manifest: null,
        createdBy: 'user:alice@example.com',
        createdAt: expect.stringMatching(ISO_UTC_MS),
        updatedAt: created.createdAt,
        revision: 1,
      });
      expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
      expect(await store().getGroup(created.id)).toEqual(created);
      expect(await store().getGroupByName(tenant, 'payments')).toEqual(created);
    });

    test('a manifest object round-trips as given', async () => {
      const manifest = {
        name: 'payments',
        type: 'secret-group',
        integration_fqn: 'acme:vault:main',
        collaborators: [{ role_id: 'secret-group-admin', subject: 'user:alice@example.com' }],
        nested: { list: [1, 'two', null, true], empty: {} },
      };
      const created = await store().createGroup(newGroup(freshTenant(), { manifest }));
      expect(created.manifest).toEqual(manifest);
      expect((await store().getGroup(created.id))?.manifest).toEqual(manifest);
    });

    test('a group with no collaborators reads back with an empty list', async () => {
      const created = await store().createGroup(newGroup(freshTenant(), { collaborators: [] }));
      expect((await store().getGroup(created.id))?.collaborators).toEqual([]);
    });

    test('unknown ids and names read as null', async () => {
      const tenant = freshTenant();
      const created = await store().createGroup(newGroup(tenant, { name: 'known' }));
      expect(await store().getGroup('sg_doesnotexist')).toBeNull();
      expect(await store().getGroupByName(tenant, 'unknown')).toBeNull();
      expect(await store().getGroupByName(freshTenant(), 'known')).toBeNull();
      expect(created.name).toBe('known');
    });

    test('a name taken in the tenant is AlreadyExistsError, and nothing of the second group is stored', async () => {
      const tenant = freshTenant();
      const first = await store().createGroup(newGroup(tenant, { name: 'dup' }));
      await rejects(
        store().createGroup(
          newGroup(tenant, { name: 'dup', integrationId: 'other', secrets: [{ key: 'k', version: 1 }] }),
        ),
        AlreadyExistsError,
        'already_exists',
      );
      expect(await store().getGroupByName(tenant, 'dup')).toEqual(first);
      expect((await store().listGroups({ tenant, limit: 10, offset: 0 })).total).toBe(1);
      expect((await store().listSecrets(first.id, { limit: 10, offset: 0 })).total).toBe(0);
    });

    test('the same name in another tenant is a different group', async () => {
      const a = await store().createGroup(newGroup(freshTenant(), { name: 'shared-name' }));
      const otherTenant = freshTenant();
      const b = await store().createGroup(newGroup(otherTenant, { name: 'shared-name' }));
      expect(b.id).not.toBe(a.id);
      expect(await store().getGroupByName(otherTenant, 'shared-name')).toEqual(b);
      expect(await store().getGroupByName(a.tenant, 'shared-name')).toEqual(a);
    });

    test('deleteGroup removes the group and its keys, and is false the second time', async () => {
      const tenant = freshTenant();
      const group = await store().createGroup(
        newGroup(tenant, {
          name: 'gone',
          secrets: [
            { key: 'a', version: 1 },
            { key: 'b', version: 2 },
          ],
        }),
      );
      const keys = (await store().listSecrets(group.id, { limit: 10, offset: 0 })).items;
      expect(keys).toHaveLength(2);
      expect(await store().deleteGroup(group.id)).toBe(true);
      expect(await store().getGroup(group.id)).toBeNull();
      expect(await store().getGroupByName(tenant, 'gone')).toBeNull();
      for (const key of keys) expect(await store().getSecret(key.id)).toBeNull();
      expect(await store().listSecrets(group.id, { limit: 10, offset: 0 })).toEqual({ items: [], total: 0 });
      expect(await store().deleteGroup(group.id)).toBe(false);
      expect(await store().deleteGroup('sg_neverexisted')).toBe(false);
    });

    test('a deleted name can be created again, under a new id', async () => {
      const tenant = freshTenant();
      const first = await store().createGroup(newGroup(tenant, { name: 'again' }));
      await store().deleteGroup(first.id);
      const second = await store().createGroup(newGroup(tenant, { name: 'again' }));
      expect(second.id).not.toBe(first.id);
      expect(second.revision).toBe(1);
      expect(await store().getGroup(first.id)).toBeNull();
    });

    test('ids are unique, URL-safe strings, and are not reused after delete', async () => {
      const tenant = freshTenant();
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const group = await store().createGroup(
          newGroup(tenant, { name: `g${i}`, secrets: [{ key: 'k', version: 1 }] }),
        );
        const [key] = (await store().listSecrets(group.id, { limit: 1, offset: 0 })).items;
        for (const id of [group.id, key?.id ?? '']) {
          expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
        if (i % 2 === 0) await store().deleteGroup(group.id);
      }
      expect(seen.size).toBe(40);
    });
  });
}
