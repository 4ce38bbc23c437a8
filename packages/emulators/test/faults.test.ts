import { describe, expect, it } from 'vitest';
import { FaultInjector, WindowQuota } from '../src/faults.ts';

describe('FaultInjector: standing latency and request counts', () => {
  it('counts every request by operation, faulted or not', () => {
    const f = new FaultInjector();
    f.set({ throttle: true, times: 1 });
    f.take('GET /secrets/a');
    f.take('GET /secrets/a');
    f.take('PUT /secrets/a');
    expect(f.count()).toBe(3);
    expect(f.count('GET')).toBe(2);
    expect(f.injected).toBe(1);
    f.resetCounts();
    expect(f.count()).toBe(0);
  });

  it('latency stays until changed, with per-operation overrides', () => {
    const f = new FaultInjector();
    expect(f.latencyFor('GET /x')).toBe(0);
    f.setLatency(30, { versions: 50 });
    expect(f.latencyFor('GET /secrets/a/versions')).toBe(50);
    expect(f.latencyFor('GET /secrets/a')).toBe(30);
    f.take('GET /secrets/a');
    expect(f.latencyFor('GET /secrets/a')).toBe(30);
  });
});

describe('WindowQuota', () => {
  it('allows `limit` requests per sliding window, then says when the next one fits', () => {
    let now = 0;
    const q = new WindowQuota(3, 1000, () => now);
    expect([q.take(), q.take(), q.take(), q.take()]).toEqual([true, true, true, false]);
    now = 400;
    expect(q.retryAfterMs()).toBe(600);
    // The three from t=0 leave the window together.
    now = 1000;
    expect([q.take(), q.take(), q.take(), q.take()]).toEqual([true, true, true, false]);
  });
});
