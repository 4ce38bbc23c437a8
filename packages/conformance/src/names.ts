import type { SuiteContext } from './context.ts';

/** Sibling names that a lossy encoder (lower-casing, `_`->`-`, `/`->`-`) would collapse into one. */
export const COLLIDING_NAMES = [
  'Key',
  'key',
  'KEY',
  'a_b',
  'a-b',
  'a.b',
  'a--b',
  'a__b',
  'a-_b',
  'a/b',
  'a-2f-b',
  'a-2d-b',
  'a_2d_b',
  'x-',
  'x_',
  'x.',
  '-x',
  '_x',
  '.x',
  '0',
  '00',
  'latest',
  'LATEST',
];

export function names({ runner: { describe, expect }, adapter, freshPath, test }: SuiteContext): void {
  describe('names', () => {
    test('names that differ only in case, separators or escapes are distinct secrets', async () => {
      const base = freshPath('names');
      for (const name of COLLIDING_NAMES)
        expect(await adapter().write(`${base}/${name}`, `value of ${name}`)).toBe(1);
      for (const name of COLLIDING_NAMES) {
        expect(await adapter().read(`${base}/${name}`, undefined), name).toEqual({
          value: `value of ${name}`,
          version: 1,
        });
      }
      expect(await adapter().deleteSecret(`${base}/key`)).toBe(true);
      expect(await adapter().read(`${base}/Key`, undefined)).toEqual({ value: 'value of Key', version: 1 });
      expect(await adapter().read(`${base}/key`, undefined)).toBeNull();
    });

    test('a deep path round trips', async () => {
      const path = `${freshPath('deep')}/${Array.from({ length: 30 }, (_, i) => `level${i}`).join('/')}`;
      expect(await adapter().write(path, 'deep')).toBe(1);
      expect(await adapter().read(path, undefined)).toEqual({ value: 'deep', version: 1 });
    });

    test(
      'a 1,000-byte path and a 255-character segment round trip and stay distinct from near twins',
      async () => {
        const base = freshPath('long');
        const long = `${base}/${'p'.repeat(1000 - base.length - 1)}`;
        expect(Buffer.byteLength(long)).toBe(1000);
        const twin = `${long.slice(0, -1)}q`;
        const segment = `${base}/${'S'.repeat(255)}`;
        const segmentTwin = `${base}/${'s'.repeat(255)}`;
        expect(await adapter().write(long, 'long')).toBe(1);
        expect(await adapter().write(twin, 'twin')).toBe(1);
        expect(await adapter().write(segment, 'upper')).toBe(1);
        expect(await adapter().write(segmentTwin, 'lower')).toBe(1);
        expect(await adapter().write(long, 'long-2')).toBe(2);
        expect(await adapter().read(long, 1)).toEqual({ value: 'long', version: 1 });
        expect(await adapter().read(long, undefined)).toEqual({ value: 'long-2', version: 2 });
        expect(await adapter().read(twin, undefined)).toEqual({ value: 'twin', version: 1 });
        expect(await adapter().read(segment, undefined)).toEqual({ value: 'upper', version: 1 });
        expect(await adapter().read(segmentTwin, undefined)).toEqual({ value: 'lower', version: 1 });
        expect(await adapter().deleteSecret(long)).toBe(true);
        expect(await adapter().read(long, undefined)).toBeNull();
        expect(await adapter().read(twin, undefined)).toEqual({ value: 'twin', version: 1 });
        expect(await adapter().write(long, 'again')).toBe(1);
      },
      'longPaths',
    );
  });
}
