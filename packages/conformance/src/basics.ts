import type { SuiteContext } from './context.ts';

export function basics({ runner: { describe, expect }, adapter, freshPath, test }: SuiteContext): void {
  describe('round trips and versions', () => {
    test('a first write creates version 1 and reads back', async () => {
      const path = freshPath();
      expect(await adapter().write(path, 'hello')).toBe(1);
      expect(await adapter().read(path, undefined)).toEqual({ value: 'hello', version: 1 });
      expect(await adapter().read(path, 1)).toEqual({ value: 'hello', version: 1 });
    });

    test('every write creates the next integer version, even with an unchanged value', async () => {
      const path = freshPath();
      const versions: number[] = [];
      for (const value of ['a', 'b', 'b', 'c', 'c']) versions.push(await adapter().write(path, value));
      expect(versions).toEqual([1, 2, 3, 4, 5]);
      expect(await adapter().read(path, undefined)).toEqual({ value: 'c', version: 5 });
    });

    test('each version reads back its own value', async () => {
      const path = freshPath();
      for (let i = 1; i <= 4; i++) await adapter().write(path, `value-${i}`);
      for (let i = 1; i <= 4; i++)
        expect(await adapter().read(path, i)).toEqual({ value: `value-${i}`, version: i });
    });

    test('an absent path reads as null, at latest and at any version', async () => {
      const path = freshPath();
      expect(await adapter().read(path, undefined)).toBeNull();
      expect(await adapter().read(path, 1)).toBeNull();
    });

    test('a version that was never written reads as null', async () => {
      const path = freshPath();
      await adapter().write(path, 'x');
      expect(await adapter().read(path, 2)).toBeNull();
      expect(await adapter().read(path, 999_999)).toBeNull();
    });

    test('not found and the empty string are different answers', async () => {
      const path = freshPath();
      expect(await adapter().read(path, undefined)).toBeNull();
      await adapter().write(path, '');
      expect(await adapter().read(path, undefined)).toEqual({ value: '', version: 1 });
    });

    test('paths that share a prefix are independent secrets', async () => {
      const base = freshPath('parent');
      await adapter().write(base, 'parent');
      await adapter().write(`${base}/child`, 'child');
      expect((await adapter().read(base, undefined))?.value).toBe('parent');
      expect((await adapter().read(`${base}/child`, undefined))?.value).toBe('child');
      expect(await adapter().deleteSecret(base)).toBe(true);
      expect((await adapter().read(`${base}/child`, undefined))?.value).toBe('child');
    });
  });
}
