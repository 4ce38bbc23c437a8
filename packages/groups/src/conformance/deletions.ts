import type { SuiteContext } from '../conformance.ts';

/** Values to delete from the backend are queued with the change that removes their keys. */
export function deletions({
  runner: { describe, expect },
  store,
  freshTenant,
  newGroup,
  test,
}: SuiteContext): void {
  const mine = async (tenant: string) =>
    (await store().pendingDeletions(1000)).filter((p) => p.path.startsWith(`${tenant}/`));

  describe('pending deletions', () => {
    test('a key removed by updateGroup is queued with its path and integration, in the same change', async () => {
      const t = freshTenant();
      const g = await store().createGroup(
        newGroup(t, {
          name: 'app',
          integrationId: 'vault-main',
          secrets: [
            { key: 'A', version: 1 },
            { key: 'B', version: 1 },
          ],
        }),
      );
      expect(await mine(t)).toEqual([]);
      await store().updateGroup(g.id, g.revision, { remove: ['A', 'NOT_THERE'], by: 'user:a@b.c' });
      expect(await mine(t)).toEqual([{ path: `${t}/app/A`, integrationId: 'vault-main' }]);
    });

    test('a refused update (stale revision) queues nothing', async () => {
      const t = freshTenant();
      const g = await store().createGroup(newGroup(t, { name: 'app', secrets: [{ key: 'A', version: 1 }] }));
      await store().updateGroup(g.id, g.revision, { upsert: [{ key: 'B', version: 1 }], by: 'user:a@b.c' });
      await expect(
        store().updateGroup(g.id, g.revision, { remove: ['A'], by: 'user:a@b.c' }),
      ).rejects.toThrow();
      expect(await mine(t)).toEqual([]);
    });

    test('deleteGroup queues every key of the group', async () => {
      const t = freshTenant();
      const g = await store().createGroup(
        newGroup(t, {
          name: 'gone',
          integrationId: 'aws-prod',
          secrets: [
            { key: 'X', version: 3 },
            { key: 'Y', version: 1 },
          ],
        }),
      );
      await store().deleteGroup(g.id);
      expect((await mine(t)).sort((a, b) => a.path.localeCompare(b.path))).toEqual([
        { path: `${t}/gone/X`, integrationId: 'aws-prod' },
        { path: `${t}/gone/Y`, integrationId: 'aws-prod' },
      ]);
    });

    test('a key written again (upsert or a new group of that name) leaves the queue', async () => {
      const t = freshTenant();
      const g = await store().createGroup(
        newGroup(t, {
          name: 'app',
          secrets: [
            { key: 'A', version: 1 },
            { key: 'B', version: 1 },
          ],
        }),
      );
      const after = await store().updateGroup(g.id, g.revision, { remove: ['A', 'B'], by: 'user:a@b.c' });
      expect((await mine(t)).length).toBe(2);
      await store().updateGroup(g.id, after.revision, {
        upsert: [{ key: 'A', version: 2 }],
        by: 'user:a@b.c',
      });
      expect((await mine(t)).map((p) => p.path)).toEqual([`${t}/app/B`]);
      await store().deleteGroup(g.id);
      await store().createGroup(newGroup(t, { name: 'app', secrets: [{ key: 'B', version: 1 }] }));
      expect((await mine(t)).map((p) => p.path)).toEqual([`${t}/app/A`]);
    });

    test('deletionsDone forgets the given paths only; unknown paths are ignored', async () => {
      const t = freshTenant();
      const g = await store().createGroup(
        newGroup(t, {
          name: 'app',
          secrets: [
            { key: 'A', version: 1 },
            { key: 'B', version: 1 },
          ],
        }),
      );
      await store().deleteGroup(g.id);
      await store().deletionsDone([`${t}/app/A`, `${t}/nope/Z`]);
      expect((await mine(t)).map((p) => p.path)).toEqual([`${t}/app/B`]);
      await store().deletionsDone([`${t}/app/B`]);
      expect(await mine(t)).toEqual([]);
    });
  });
}
