import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryOnConflict, VersionConflictError } from '../src/index.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** `fn` for retryOnConflict: conflicts `times` times (with `retryAfterMs`), then answers 7. */
function conflicting(times: number, retryAfterMs?: number) {
  const calls = { count: 0 };
  const fn = async () => {
    calls.count++;
    if (calls.count <= times) throw new VersionConflictError('lost the race', { retryAfterMs });
    return 7;
  };
  return { calls, fn };
}

describe('retryOnConflict', () => {
  it('waits a few ms between attempts when the conflict carries no hint', async () => {
    vi.useFakeTimers();
    const { calls, fn } = conflicting(1);
    const result = retryOnConflict('p', 3, fn);
    await vi.advanceTimersByTimeAsync(5);
    expect(calls.count).toBe(2);
    await expect(result).resolves.toBe(7);
  });

  it("waits at least half the adapter's retryAfterMs, times the attempt, before trying again", async () => {
    vi.useFakeTimers();
    // The shortest jitter: waits of exactly 50 ms, then 100 ms.
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { calls, fn } = conflicting(2, 100);
    const result = retryOnConflict('p', 3, fn);
    await vi.advanceTimersByTimeAsync(49);
    expect(calls.count).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.count).toBe(2);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls.count).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe(7);
    expect(calls.count).toBe(3);
  });

  it('gives up as busy once the retries are spent', async () => {
    const { fn } = conflicting(10, 1);
    await expect(retryOnConflict('p', 2, fn)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'busy',
    });
  });
});
