import { ResourceNotFoundError, VersionConflictError } from '@secret-gateway/core';
import type { SuiteContext } from '../conformance.ts';

export function updates({
  runner: { describe, expect },
  store,
  freshTenant,
  newGroup,
  test,
  rejects,
}: SuiteContext): void {
  describe('updateGroup', () => {
    test('applies collaborators, manifest, upserts and removals together, and bumps revision and updatedAt', async () => {
      const tenant = freshTenant();
      const group = await store().createGroup(
        newGroup(tenant, {
          secrets: [
            { key: 'keep', version: 1 },
            { key: 'drop', version: 1 },
          ],
        }),
      );
      const collaborators = [
        { subject: 'user:bob@example.com', roleId: 'secret-group-admin' as const },
        { subject: 'team:ops', roleId: 'secret-group-viewer' as const },
      ];
      const manifest = { name: group.name, type: 'secret-group', integration_fqn: 'acme:x' };
      const before = new Date().toISOString();
      const updated = await store().updateGroup(group.id, 1, {
        collaborators,
        manifest,
        upsert: [{ key: 'new', version: 1 }],
        remove: ['drop'],
        by: 'user:bob@example.com',
      });
      expect(updated).toEqual({
        ...group,
        collaborators,
        manifest,
        revision: 2,
        updatedAt: expect.any(String),
      });
      expect(updated.updatedAt >= before).toBe(true);
      expect(updated.updatedAt >= group.updatedAt).toBe(true);
      expect(await store().getGroup(group.id)).toEqual(updated);
      const keys = await store().listSecrets(group.id, { limit: 10, offset: 0 });
      expect(keys.items.map((k) => k.key)).toEqual(['keep', 'new']);
    });

    test('fields left out are left alone; manifest null clears it', async () => {
      const manifest = { name: 'x', type: 'secret-group' };
      const group = await store().createGroup(
        newGroup(freshTenant(), { manifest, secrets: [{ key: 'k', version: 1 }] }),
      );
      const touched = await store().updateGroup(group.id, 1, { by: 'user:alice@example.com' });
      expect(touched.revision).toBe(2);
      expect(touched.manifest).toEqual(manifest);
      expect(touched.collaborators).toEqual(group.collaborators);
      expect((await store().listSecrets(group.id, { limit: 10, offset: 0 })).total).toBe(1);
      const cleared = await store().updateGroup(group.id, 2, {
        manifest: null,
        by: 'user:alice@example.com',
      });
      expect(cleared.manifest).toBeNull();
      expect(cleared.revision).toBe(3);
    });

    test('a stale revision is VersionConflictError and applies nothing', async () => {
      const group = await store().createGroup(
        newGroup(freshTenant(), { secrets: [{ key: 'a', version: 1 }] }),
      );
      const current = await store().updateGroup(group.id, 1, {
        upsert: [{ key: 'b', version: 1 }],
        by: 'user:x',
      });
      const keysBefore = await store().listSecrets(group.id, { limit: 10, offset: 0 });
      for (const stale of [1, 3, 0]) {
        await rejects(
          store().updateGroup(group.id, stale, {
            collaborators: [],
            manifest: { changed: true },
            upsert: [
              { key: 'a', version: 9 },
              { key: 'c', version: 1 },
            ],
            remove: ['b'],
            by: 'user:mallory',
          }),
          VersionConflictError,
          'conflict',
        );
      }
      expect(await store().getGroup(group.id)).toEqual(current);
      expect(await store().listSecrets(group.id, { limit: 10, offset: 0 })).toEqual(keysBefore);
    });

    test('an unknown id is ResourceNotFoundError', async () => {
      await rejects(
        store().updateGroup('sg_doesnotexist', 1, { by: 'user:x' }),
        ResourceNotFoundError,
        'not_found',
      );
      const group = await store().createGroup(newGroup(freshTenant()));
      await store().deleteGroup(group.id);
      await rejects(store().updateGroup(group.id, 1, { by: 'user:x' }), ResourceNotFoundError, 'not_found');
    });

    test('concurrent updates from the same revision: exactly one wins, the others conflict', async () => {
      const group = await store().createGroup(newGroup(freshTenant()));
      const writers = Array.from({ length: 8 }, (_, i) =>
        store().updateGroup(group.id, 1, { upsert: [{ key: `w${i}`, version: 1 }], by: `user:w${i}` }),
      );
      const results = await Promise.allSettled(writers);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
      expect((await store().getGroup(group.id))?.revision).toBe(2);
      expect((await store().listSecrets(group.id, { limit: 10, offset: 0 })).total).toBe(1);
    });

    test('each update moves the revision by one', async () => {
      const group = await store().createGroup(newGroup(freshTenant()));
      let revision = group.revision;
      for (let i = 0; i < 5; i++) {
        const next = await store().updateGroup(group.id, revision, {
          upsert: [{ key: 'k', version: i + 1 }],
          by: 'user:x',
        });
        expect(next.revision).toBe(revision + 1);
        revision = next.revision;
      }
    });
  });
}
