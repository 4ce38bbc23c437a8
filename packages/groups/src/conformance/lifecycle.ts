import type { SuiteContext } from '../conformance.ts';

export function lifecycle({
  runner: { describe, expect },
  store,
  freshTenant,
  newGroup,
  test,
}: SuiteContext): void {
  describe('integrations, health, close', () => {
    test('groupIntegrations lists every group of every tenant with its integration', async () => {
      const a = freshTenant();
      const b = freshTenant();
      const one = await store().createGroup(newGroup(a, { name: 'one', integrationId: 'vault-main' }));
      await store().createGroup(newGroup(b, { name: 'two', integrationId: 'aws-prod' }));
      const gone = await store().createGroup(newGroup(b, { name: 'gone', integrationId: 'aws-prod' }));
      await store().deleteGroup(gone.id);
      const mine = (await store().groupIntegrations()).filter((g) => g.tenant === a || g.tenant === b);
      expect(mine.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
        { tenant: a, name: 'one', integrationId: 'vault-main' },
        { tenant: b, name: 'two', integrationId: 'aws-prod' },
      ]);
      expect(one.integrationId).toBe('vault-main');
    });

    test('check() resolves on a healthy store', async () => {
      await expect(store().check()).resolves.toBeUndefined();
    });

    test('name is a short lower-case word for logs', async () => {
      expect(store().name).toMatch(/^[a-z0-9-]+$/);
    });

    test('close() is idempotent', async () => {
      await store().close();
      await expect(store().close()).resolves.toBeUndefined();
    });
  });
}
