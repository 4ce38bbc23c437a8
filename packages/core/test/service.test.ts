import { MemoryAdapter } from '@secret-gateway/adapter-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AdapterCapabilities,
  type CallOptions,
  SecretService,
  type StoredSecret,
} from '../src/index.ts';

/** MemoryAdapter does its work before returning, so it may declare itself synchronous. */
class SyncMemory extends MemoryAdapter {
  override readonly capabilities: AdapterCapabilities = {
    ...new MemoryAdapter().capabilities,
    synchronous: true,
  };
  signals: Array<AbortSignal | undefined> = [];

  override async read(
    path: string,
    version: number | undefined,
    options?: CallOptions,
  ): Promise<StoredSecret | null> {
    this.signals.push(options?.signal);
    return super.read(path, version);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs a write, reads and deletes; returns how many timers they set. */
async function timersSetBy(service: SecretService): Promise<number> {
  const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
  await service.put('tfy-secret/d/a', 'v');
  expect(await service.get('tfy-secret/d/a')).toMatchObject({ version: 1, value: 'v' });
  expect(await service.get('tfy-secret/d/a', 1)).toMatchObject({ version: 1, value: 'v' });
  await service.check();
  await service.delete('tfy-secret/d/a', 1);
  await service.put('tfy-secret/d/a', 'w');
  await service.delete('tfy-secret/d/a');
  return setTimeoutSpy.mock.calls.length;
}

describe('backend deadlines', () => {
  it('every call to an adapter that waits on I/O runs under a deadline timer', async () => {
    expect(await timersSetBy(new SecretService(new MemoryAdapter(), { deadlineMs: 1000 }))).toBe(7);
  });

  it('a synchronous adapter gets no timer, and a signal that never fires', async () => {
    const adapter = new SyncMemory();
    expect(await timersSetBy(new SecretService(adapter, { deadlineMs: 1000 }))).toBe(0);
    expect(adapter.signals).toHaveLength(2);
    for (const signal of adapter.signals) expect(signal?.aborted).toBe(false);
  });

  it('an adapter with synchronous reads gets no timer for reads and check, and one per write and delete', async () => {
    const adapter = new SyncMemory();
    (adapter as { capabilities: AdapterCapabilities }).capabilities = {
      ...new MemoryAdapter().capabilities,
      synchronousReads: true,
    };
    // The timersSetBy sequence: two puts and two deletes; two reads and a check go without.
    expect(await timersSetBy(new SecretService(adapter, { deadlineMs: 1000 }))).toBe(4);
    for (const signal of adapter.signals) expect(signal?.aborted).toBe(false);
  });
});

describe('backend deadlines as a time', () => {
  it("a call's options carry its deadline as a performance.now() time, without making a signal", async () => {
    const seen: Array<number | undefined> = [];
    const adapter = new (class extends MemoryAdapter {
      override async write(path: string, value: string, options?: CallOptions): Promise<number> {
        seen.push(options?.deadline);
        return super.write(path, value);
      }
    })();
    const before = performance.now();
    await new SecretService(adapter, { deadlineMs: 1000 }).put('tfy-secret/d/a', 'w');
    const after = performance.now();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeGreaterThanOrEqual(before + 1000);
    expect(seen[0]).toBeLessThanOrEqual(after + 1000);
  });
});

describe('backend detail', () => {
  it('an error an adapter raises without detail gets its backend and operation, for the log', async () => {
    const { BackendError, SecretGatewayError } = await import('../src/errors.ts');
    const adapter = new MemoryAdapter();
    adapter.read = async () => {
      throw new BackendError('unexpected', 'answered without a version');
    };
    const service = new SecretService(adapter);
    const error = await service.get('tfy-secret/a/b').catch((e: unknown) => e);
    expect(SecretGatewayError.isInstance(error) && error.detail).toEqual({
      backend: 'memory',
      operation: 'read',
    });
  });
});
