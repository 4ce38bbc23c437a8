import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Checkpointer } from '../src/checkpointer.ts';
import { newAdapter, tempDir } from './helpers.ts';

/** `clients` writers, each writing again as soon as its write is acknowledged, until `total`. */
async function sustainedWrites(adapter: ReturnType<typeof newAdapter>, clients: number, total: number) {
  let n = 0;
  const client = async () => {
    while (n < total) {
      n++;
      await adapter.write(`tfy-secret/ckpt/p${n % 200}`, `value-${n}-${'x'.repeat(200)}`);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
}

describe('checkpoints in a worker thread (group commit)', () => {
  it("turn SQLite's own checkpoints off on the writing connection, and copy the WAL into the database", async () => {
    const dir = tempDir();
    const a = newAdapter(dir, undefined, { checkpoints: { intervalMs: 0 } });
    expect(a.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await sustainedWrites(a, 8, 400);
    await vi.waitFor(() => expect(a.checkpointStats.runs).toBeGreaterThan(0));
    expect(a.checkpointStats.failures).toBe(0);
    await a.close();
    // Off, SQLite checkpoints in each COMMIT that crosses 1000 frames, as always.
    const single = newAdapter(undefined, undefined, { groupCommit: false });
    expect(single.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await single.close();
  });

  it('keeps the WAL bounded under writes that never pause: the next commit waits for a catch-up', async () => {
    const dir = tempDir();
    const stallFrames = 64;
    const a = newAdapter(dir, undefined, { checkpoints: { intervalMs: 0, stallFrames } });
    let largest = 0;
    const watch = setInterval(() => {
      largest = Math.max(largest, statSync(join(dir, 'secrets.db-wal')).size);
    }, 1);
    await sustainedWrites(a, 16, 3000);
    clearInterval(watch);
    expect(a.checkpointStats.stalls).toBeGreaterThan(0);
    // Without the catch-up the WAL only grows: 3000 writes take far more than 4 x 64 pages here.
    const pageSize = a.db.pragma('page_size', { simple: true }) as number;
    const frames = statSync(join(dir, 'secrets.db-wal')).size / (pageSize + 24);
    expect(frames).toBeLessThan(stallFrames * 4 + 512);
    await a.close();
  });

  it("when the worker cannot run, SQLite's own checkpoints come back", async () => {
    const fallback = vi.fn();
    // A database in a directory that does not exist: the worker's connection fails at once.
    const checkpointer = new Checkpointer(join(tempDir(), 'missing', 'secrets.db'), fallback);
    await vi.waitFor(() => expect(fallback).toHaveBeenCalledTimes(1));
    checkpointer.committed();
    expect(checkpointer.stall).toBeUndefined();
    await checkpointer.close();
    expect(fallback).toHaveBeenCalledTimes(1);
  });
});
