import { retryOnConflict } from '@secret-gateway/core';
import type { SuiteContext } from './context.ts';

export function concurrency({ runner: { describe, expect }, adapter, freshPath, test }: SuiteContext): void {
  describe('concurrency', () => {
    test(
      '20 concurrent writers on one path get 20 distinct versions and every value is readable',
      async () => {
        const path = freshPath();
        const writers = Array.from({ length: 20 }, (_, i) => `writer-${i}`);
        // A write that loses a race may throw VersionConflictError; SecretService retries it the same way.
        const versions = await Promise.all(
          writers.map((value) => retryOnConflict(path, 50, () => adapter().write(path, value))),
        );
        expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        for (const [i, value] of writers.entries()) {
          expect(await adapter().read(path, versions[i])).toEqual({ value, version: versions[i] });
        }
        const latest = await adapter().read(path, undefined);
        expect(latest?.version).toBe(20);
      },
      'concurrentWriters',
    );

    test('concurrent writers on different paths do not disturb each other', async () => {
      const paths = Array.from({ length: 10 }, (_, i) => freshPath(`p${i}`));
      await Promise.all(
        paths.flatMap((p) => [1, 2, 3].map(() => retryOnConflict(p, 50, () => adapter().write(p, p)))),
      );
      for (const p of paths) expect(await adapter().read(p, undefined)).toEqual({ value: p, version: 3 });
    });
  });
}
