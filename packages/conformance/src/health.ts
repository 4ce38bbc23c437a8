import type { SuiteContext } from './context.ts';

export function health({ runner: { describe, expect }, adapter, freshPath, test }: SuiteContext): void {
  describe('health and metadata', () => {
    test('check() passes against a reachable backend', async () => {
      await expect(adapter().check()).resolves.toBeUndefined();
    });

    test('capabilities declare the contract version and sane limits', async () => {
      const a = adapter();
      expect(a.contractVersion).toBe(1);
      expect(a.name).toMatch(/^[a-z0-9-]+$/);
      expect(a.capabilities.maxValueBytes).toBeGreaterThan(0);
      expect(a.capabilities.maxPathBytes).toBeGreaterThanOrEqual(1024);
      expect(typeof a.capabilities.atomicVersionsAcrossReplicas).toBe('boolean');
      expect(typeof a.list === 'function').toBe(a.capabilities.list);
      expect(['boolean', 'undefined']).toContain(typeof a.capabilities.synchronous);
      expect(['boolean', 'undefined']).toContain(typeof a.capabilities.synchronousReads);
    });

    test('an adapter that declares itself synchronous settles every call before the next macrotask', async (skip) => {
      const a = adapter();
      if (!a.capabilities.synchronous) return skip('the adapter does not declare capabilities.synchronous');
      // SecretService arms no deadline for such an adapter: a call that waited on I/O would be unbounded.
      const settlesNow = async (call: Promise<unknown>) => {
        const later = new Promise((resolve) => setImmediate(() => resolve('later')));
        return Promise.race([call.then(() => 'now'), later]);
      };
      const path = freshPath('sync');
      expect(await settlesNow(a.write(path, 'x'))).toBe('now');
      expect(await settlesNow(a.read(path, undefined))).toBe('now');
      expect(await settlesNow(a.read(path, 1))).toBe('now');
      expect(await settlesNow(a.check())).toBe('now');
      expect(await settlesNow(a.write(path, 'y'))).toBe('now');
      expect(await settlesNow(a.deleteVersion(path, 1))).toBe('now');
      expect(await settlesNow(a.deleteSecret(path))).toBe('now');
    });

    test('an adapter that declares synchronous reads settles read, list and check before the next macrotask', async (skip) => {
      const a = adapter();
      if (!a.capabilities.synchronousReads)
        return skip('the adapter does not declare capabilities.synchronousReads');
      // SecretService arms no deadline for these calls: one that waited on I/O would be unbounded.
      const settlesNow = async (call: Promise<unknown>) => {
        const later = new Promise((resolve) => setImmediate(() => resolve('later')));
        return Promise.race([call.then(() => 'now'), later]);
      };
      const path = freshPath('sync-reads');
      await a.write(path, 'x');
      expect(await settlesNow(a.read(path, undefined))).toBe('now');
      expect(await settlesNow(a.read(path, 1))).toBe('now');
      expect(await settlesNow(a.read(path, 2))).toBe('now');
      expect(await settlesNow(a.check())).toBe('now');
      if (a.list) expect(await settlesNow(a.list(path))).toBe('now');
    });

    test(
      'list(prefix) returns live paths under the prefix, sorted',
      async (skip) => {
        const a = adapter();
        if (!a.capabilities.list || !a.list) return skip('the adapter does not declare capabilities.list');
        const base = freshPath('listing');
        await a.write(`${base}/b`, 'x');
        await a.write(`${base}/a`, 'x');
        await a.write(`${base}/a/deeper`, 'x');
        await a.write(`${base}/gone`, 'x');
        await a.deleteSecret(`${base}/gone`);
        expect(await a.list(`${base}/`)).toEqual([`${base}/a`, `${base}/a/deeper`, `${base}/b`]);
      },
      'list',
    );
  });
}
