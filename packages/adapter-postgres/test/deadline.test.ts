import { afterEach, describe, expect, it } from 'vitest';
import type { PostgresAdapter } from '../src/index.ts';
import { freshDatabase, lockRow, newAdapter, useCluster } from './helpers.ts';

const cluster = useCluster();
const open: Array<{ end?: () => Promise<void>; close?: () => Promise<void> }> = [];
afterEach(async () => {
  for (const c of open.splice(0)) await (c.close ?? c.end)?.call(c).catch(() => undefined);
});

async function setUp(options = {}): Promise<{ adapter: PostgresAdapter; url: string; path: string }> {
  const url = await freshDatabase(cluster());
  const adapter = newAdapter(url, { listen: false, ...options });
  open.push(adapter);
  const path = 'tfy-secret/acme/prod/locked';
  await adapter.write(path, 'seed');
  return { adapter, url, path };
}

describe('deadlines', () => {
  it('the server cancels a statement that runs past backendTimeoutMs (statement_timeout)', async () => {
    const { adapter, url, path } = await setUp({ backendTimeoutMs: 300 });
    const lock = await lockRow(url, path, open);
    await expect(adapter.write(path, 'blocked')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'timeout',
      detail: { backendCode: '57014' },
    });
    await lock.release();
    expect(await adapter.read(path, undefined)).toEqual({ value: 'seed', version: 1 });
  });

  it("a write whose caller's deadline passed is rolled back, not committed once the lock frees", async () => {
    const { adapter, url, path } = await setUp({ backendTimeoutMs: 30_000 });
    const lock = await lockRow(url, path, open);
    await expect(
      adapter.write(path, 'abandoned', { signal: AbortSignal.timeout(200) }),
    ).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'timeout',
    });
    await lock.release();
    // This write queues on the row lock behind the abandoned one, which ends first either way.
    expect(await adapter.write(path, 'next')).toBe(2);
    expect(await adapter.read(path, 2)).toEqual({ value: 'next', version: 2 });
  });
});
