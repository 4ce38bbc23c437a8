import type { SuiteContext } from '../conformance.ts';
import type { Collaborator } from '../store.ts';

const admin = (subject: string): Collaborator => ({ subject, roleId: 'secret-group-admin' });
const viewer = (subject: string): Collaborator => ({ subject, roleId: 'secret-group-viewer' });

export function listing({
  runner: { describe, expect },
  store,
  freshTenant,
  newGroup,
  test,
}: SuiteContext): void {
  describe('listGroups', () => {
    // Lower-case ASCII names: their order is the same under every collation a store may use.
    test('sorts by name, pages with limit and offset, and counts every match in total', async () => {
      const tenant = freshTenant();
      for (const name of ['delta', 'alpha', 'echo', 'charlie', 'bravo']) {
        await store().createGroup(newGroup(tenant, { name }));
      }
      const names = async (limit: number, offset: number) => {
        const page = await store().listGroups({ tenant, limit, offset });
        return { names: page.items.map((g) => g.name), total: page.total };
      };
      expect(await names(10, 0)).toEqual({ names: ['alpha', 'bravo', 'charlie', 'delta', 'echo'], total: 5 });
      expect(await names(2, 0)).toEqual({ names: ['alpha', 'bravo'], total: 5 });
      expect(await names(2, 2)).toEqual({ names: ['charlie', 'delta'], total: 5 });
      expect(await names(2, 4)).toEqual({ names: ['echo'], total: 5 });
      expect(await names(2, 5)).toEqual({ names: [], total: 5 });
      expect(await names(0, 0)).toEqual({ names: [], total: 5 });
    });

    test('items are whole records, collaborators and manifest included', async () => {
      const tenant = freshTenant();
      const created = await store().createGroup(
        newGroup(tenant, {
          collaborators: [admin('user:alice@example.com'), viewer('team:ops')],
          manifest: { name: 'x', type: 'secret-group' },
        }),
      );
      const page = await store().listGroups({ tenant, limit: 10, offset: 0 });
      expect(page.items).toEqual([created]);
    });

    test('an empty tenant lists nothing', async () => {
      expect(await store().listGroups({ tenant: freshTenant(), limit: 10, offset: 0 })).toEqual({
        items: [],
        total: 0,
      });
    });

    test('tenants are isolated', async () => {
      const a = freshTenant();
      const b = freshTenant();
      await store().createGroup(newGroup(a, { name: 'one' }));
      await store().createGroup(newGroup(b, { name: 'two' }));
      await store().createGroup(newGroup(b, { name: 'three' }));
      const list = async (tenant: string) =>
        (await store().listGroups({ tenant, limit: 10, offset: 0 })).items.map((g) => [g.tenant, g.name]);
      expect(await list(a)).toEqual([[a, 'one']]);
      expect(await list(b)).toEqual([
        [b, 'three'],
        [b, 'two'],
      ]);
      expect((await store().listGroups({ tenant: a, name: 'two', limit: 10, offset: 0 })).total).toBe(0);
    });

    test('name is an exact match', async () => {
      const tenant = freshTenant();
      const wanted = await store().createGroup(newGroup(tenant, { name: 'db' }));
      await store().createGroup(newGroup(tenant, { name: 'db-replica' }));
      await store().createGroup(newGroup(tenant, { name: 'xdb' }));
      expect(await store().listGroups({ tenant, name: 'db', limit: 10, offset: 0 })).toEqual({
        items: [wanted],
        total: 1,
      });
      expect((await store().listGroups({ tenant, name: 'd%', limit: 10, offset: 0 })).total).toBe(0);
      expect((await store().listGroups({ tenant, name: 'DB', limit: 10, offset: 0 })).total).toBe(0);
    });

    test('visibleTo keeps groups where any collaborator subject is in the list, whatever the role', async () => {
      const tenant = freshTenant();
      await store().createGroup(
        newGroup(tenant, { name: 'a-alice', collaborators: [admin('user:alice@example.com')] }),
      );
      await store().createGroup(newGroup(tenant, { name: 'b-team', collaborators: [viewer('team:ops')] }));
      await store().createGroup(
        newGroup(tenant, {
          name: 'c-both',
          collaborators: [viewer('user:alice@example.com'), admin('team:ops'), admin('user:bob@example.com')],
        }),
      );
      await store().createGroup(
        newGroup(tenant, { name: 'd-bob', collaborators: [admin('user:bob@example.com')] }),
      );
      await store().createGroup(newGroup(tenant, { name: 'e-nobody', collaborators: [] }));
      const visible = async (visibleTo: string[] | undefined, limit = 10, offset = 0) => {
        const page = await store().listGroups({ tenant, visibleTo, limit, offset });
        return { names: page.items.map((g) => g.name), total: page.total };
      };
      expect(await visible(['user:alice@example.com'])).toEqual({ names: ['a-alice', 'c-both'], total: 2 });
      expect(await visible(['user:alice@example.com', 'team:ops'])).toEqual({
        names: ['a-alice', 'b-team', 'c-both'],
        total: 3,
      });
      // A group matched by two of the subjects is listed and counted once.
      expect(await visible(['user:alice@example.com', 'team:ops'], 1, 2)).toEqual({
        names: ['c-both'],
        total: 3,
      });
      expect(await visible(['user:carol@example.com'])).toEqual({ names: [], total: 0 });
      expect(await visible([])).toEqual({ names: [], total: 0 });
      expect(await visible(undefined)).toEqual({
        names: ['a-alice', 'b-team', 'c-both', 'd-bob', 'e-nobody'],
        total: 5,
      });
    });

    test('visibleTo combines with name and stays within the tenant', async () => {
      const tenant = freshTenant();
      const other = freshTenant();
      await store().createGroup(
        newGroup(tenant, { name: 'mine', collaborators: [admin('user:alice@example.com')] }),
      );
      await store().createGroup(
        newGroup(tenant, { name: 'theirs', collaborators: [admin('user:bob@example.com')] }),
      );
      await store().createGroup(
        newGroup(other, { name: 'mine', collaborators: [admin('user:alice@example.com')] }),
      );
      const page = await store().listGroups({
        tenant,
        visibleTo: ['user:alice@example.com'],
        name: 'mine',
        limit: 10,
        offset: 0,
      });
      expect(page.items.map((g) => [g.tenant, g.name])).toEqual([[tenant, 'mine']]);
      expect(page.total).toBe(1);
      const notVisible = await store().listGroups({
        tenant,
        visibleTo: ['user:alice@example.com'],
        name: 'theirs',
        limit: 10,
        offset: 0,
      });
      expect(notVisible).toEqual({ items: [], total: 0 });
    });

    test('visibleTo follows collaborator changes', async () => {
      const tenant = freshTenant();
      const group = await store().createGroup(
        newGroup(tenant, { collaborators: [admin('user:alice@example.com')] }),
      );
      await store().updateGroup(group.id, group.revision, {
        collaborators: [admin('user:bob@example.com')],
        by: 'user:alice@example.com',
      });
      const visibleTo = async (subject: string) =>
        (await store().listGroups({ tenant, visibleTo: [subject], limit: 10, offset: 0 })).total;
      expect(await visibleTo('user:alice@example.com')).toBe(0);
      expect(await visibleTo('user:bob@example.com')).toBe(1);
    });
  });
}
