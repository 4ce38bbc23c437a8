import type { SuiteContext } from './context.ts';

export function deletes({ runner: { describe, expect }, adapter, freshPath, test }: SuiteContext): void {
  describe('deleting', () => {
    test('deleting the newest version makes the one below it the latest', async () => {
      const path = freshPath();
      await adapter().write(path, 'one');
      await adapter().write(path, 'two');
      await adapter().write(path, 'three');
      expect(await adapter().deleteVersion(path, 3)).toBe(true);
      expect(await adapter().read(path, undefined)).toEqual({ value: 'two', version: 2 });
      expect(await adapter().read(path, 3)).toBeNull();
    });

    test('a deleted middle version is absent and the others stay readable', async () => {
      const path = freshPath();
      for (const v of ['one', 'two', 'three']) await adapter().write(path, v);
      expect(await adapter().deleteVersion(path, 2)).toBe(true);
      expect(await adapter().read(path, 2)).toBeNull();
      expect(await adapter().read(path, 1)).toEqual({ value: 'one', version: 1 });
      expect(await adapter().read(path, undefined)).toEqual({ value: 'three', version: 3 });
    });

    test('a deleted version number is never handed out again', async () => {
      const path = freshPath();
      await adapter().write(path, 'one');
      await adapter().write(path, 'two');
      expect(await adapter().deleteVersion(path, 2)).toBe(true);
      expect(await adapter().write(path, 'three')).toBe(3);
      expect(await adapter().read(path, 2)).toBeNull();
      expect(await adapter().read(path, undefined)).toEqual({ value: 'three', version: 3 });
    });

    test('deleting an absent version, an already deleted one or one of an absent path answers false', async () => {
      const path = freshPath();
      expect(await adapter().deleteVersion(path, 1)).toBe(false);
      await adapter().write(path, 'one');
      expect(await adapter().deleteVersion(path, 2)).toBe(false);
      expect(await adapter().deleteVersion(path, 1)).toBe(true);
      expect(await adapter().deleteVersion(path, 1)).toBe(false);
    });

    test('with every version deleted one by one, latest is absent and numbering goes on', async () => {
      const path = freshPath();
      await adapter().write(path, 'one');
      await adapter().write(path, 'two');
      expect(await adapter().deleteVersion(path, 1)).toBe(true);
      expect(await adapter().deleteVersion(path, 2)).toBe(true);
      expect(await adapter().read(path, undefined)).toBeNull();
      expect(await adapter().write(path, 'three')).toBe(3);
      expect(await adapter().read(path, undefined)).toEqual({ value: 'three', version: 3 });
    });

    test('delete all: absent at latest and every version, a second delete answers false', async () => {
      const path = freshPath();
      await adapter().write(path, 'one');
      await adapter().write(path, 'two');
      expect(await adapter().deleteSecret(path)).toBe(true);
      expect(await adapter().read(path, undefined)).toBeNull();
      expect(await adapter().read(path, 1)).toBeNull();
      expect(await adapter().read(path, 2)).toBeNull();
      expect(await adapter().deleteSecret(path)).toBe(false);
      expect(await adapter().deleteVersion(path, 1)).toBe(false);
    });

    test('deleting an absent path answers false', async () => {
      expect(await adapter().deleteSecret(freshPath())).toBe(false);
    });

    test('a write after delete all starts at version 1 at once, and old values stay unreadable', async () => {
      const path = freshPath();
      await adapter().write(path, 'old-1');
      await adapter().write(path, 'old-2');
      await adapter().write(path, 'old-3');
      expect(await adapter().deleteSecret(path)).toBe(true);
      expect(await adapter().write(path, 'new-1')).toBe(1);
      expect(await adapter().read(path, undefined)).toEqual({ value: 'new-1', version: 1 });
      expect(await adapter().read(path, 1)).toEqual({ value: 'new-1', version: 1 });
      expect(await adapter().read(path, 2)).toBeNull();
      expect(await adapter().read(path, 3)).toBeNull();
      expect(await adapter().write(path, 'new-2')).toBe(2);
      expect(await adapter().read(path, 2)).toEqual({ value: 'new-2', version: 2 });
    });

    test('delete all, write, delete all again, write: each generation starts at 1', async () => {
      const path = freshPath();
      for (let round = 1; round <= 3; round++) {
        expect(await adapter().write(path, `round-${round}`)).toBe(1);
        expect(await adapter().deleteSecret(path)).toBe(true);
        expect(await adapter().read(path, undefined)).toBeNull();
      }
    });
  });
}
