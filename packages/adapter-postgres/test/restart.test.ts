import { BackendUnavailableError, SecretGatewayError } from '@secret-gateway/core';
import { describe, expect, it } from 'vitest';
import { freshDatabase, newAdapter, until, useCluster } from './helpers.ts';

const cluster = useCluster();

describe('the database restarted under load', () => {
  it('calls fail as unavailable while it is down, nothing acknowledged is lost, the same adapter recovers', async () => {
    const url = await freshDatabase(cluster());
    const adapter = newAdapter(url, { backendTimeoutMs: 1000, poolMax: 4 });
    try {
      expect(await adapter.listening()).toBe(true);
      const acknowledged: Array<{ path: string; version: number; value: string }> = [];
      const failures: unknown[] = [];
      let stop = false;
      const writer = async (w: number) => {
        for (let n = 0; !stop; n++) {
          const path = `tfy-secret/acme/prod/restart-${w % 2}`;
          const value = `w${w}-n${n}`;
          try {
            acknowledged.push({ path, value, version: await adapter.write(path, value) });
          } catch (error) {
            failures.push(error);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      };
      const writers = [0, 1, 2, 3].map(writer);
      await until(() => acknowledged.length >= 20, 10_000, 'writes before the stop');

      await cluster().stop();
      // While down: a read and a check fail as unavailable, with a Retry-After, no pg text.
      const down = await adapter.read('tfy-secret/acme/prod/restart-0', undefined).catch((e: unknown) => e);
      expect(down).toBeInstanceOf(BackendUnavailableError);
      expect((down as BackendUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      await expect(adapter.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
      expect(adapter.listenerUp).toBe(false);
      expect(adapter.externalChanges()).toBe(true);
      const beforeStart = acknowledged.length;

      await cluster().start();
      await until(() => acknowledged.length >= beforeStart + 20, 20_000, 'writes after the restart');
      stop = true;
      await Promise.all(writers);

      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) {
        expect(SecretGatewayError.isInstance(failure) && failure.code).toBe('backend_unavailable');
      }
      for (const w of acknowledged)
        expect(await adapter.read(w.path, w.version)).toEqual({ value: w.value, version: w.version });
      for (const path of ['tfy-secret/acme/prod/restart-0', 'tfy-secret/acme/prod/restart-1']) {
        const versions = acknowledged.filter((w) => w.path === path).map((w) => w.version);
        expect(new Set(versions).size).toBe(versions.length);
      }
      await expect(adapter.check()).resolves.toBeUndefined();
      await until(() => adapter.listenerUp, 10_000, 'the listener back');
    } finally {
      await adapter.close();
    }
  }, 60_000);

  it('an adapter started while the database is down serves once it is up, without being rebuilt', async () => {
    const url = await freshDatabase(cluster());
    await cluster().stop();
    const adapter = newAdapter(url, { backendTimeoutMs: 1000 });
    try {
      await expect(adapter.write('tfy-secret/acme/prod/late', 'x')).rejects.toMatchObject({
        code: 'backend_unavailable',
      });
      await cluster().start();
      expect(await adapter.write('tfy-secret/acme/prod/late', 'x')).toBe(1);
      await expect(adapter.check()).resolves.toBeUndefined();
    } finally {
      await adapter.close();
    }
  }, 60_000);
});
