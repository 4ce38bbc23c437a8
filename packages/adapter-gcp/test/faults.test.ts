import { SecretService } from '@secret-gateway/core';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adapterFor, randomPath } from './helpers.ts';

// Faults injected in the emulator, seen through the adapter and SecretService with a short deadline.
let emu: GcpEmulator;
beforeAll(async () => {
  emu = await startGcpEmulator();
});
afterEach(() => {
  emu.faults.clear();
  emu.denied.clear();
});
afterAll(() => emu.stop());

const DEADLINE = 600;
const service = () => new SecretService(adapterFor(emu, DEADLINE), { deadlineMs: DEADLINE });
async function seeded(): Promise<{ s: SecretService; path: string }> {
  const s = service();
  const path = randomPath();
  await s.put(path, 'value');
  return { s, path };
}

describe('GCP faults become typed errors within the deadline', () => {
  it.each([
    [{ throttle: true }, 'throttled'],
    [{ status: 500 }, 'server_error'],
    [{ latencyMs: 60_000 }, 'timeout'],
  ])('read with %j -> backend_unavailable (%s), then recovers', async (fault, reason) => {
    const { s, path } = await seeded();
    emu.faults.set(fault);
    await expect(s.get(path)).rejects.toMatchObject({ code: 'backend_unavailable', reason });
    emu.faults.clear();
    expect((await s.get(path)).value).toBe('value');
  });

  it.each([
    [{ throttle: true }, 'throttled'],
    [{ status: 503 }, 'unreachable'],
    [{ drop: true }, 'unreachable'],
    [{ status: 500 }, 'server_error'],
    [{ latencyMs: 60_000 }, 'timeout'],
  ])('write with %j -> backend_unavailable (%s), not retried (it may have landed)', async (fault, reason) => {
    const { s, path } = await seeded();
    emu.faults.set({ ...fault, match: 'AddSecretVersion' });
    await expect(s.put(path, 'next')).rejects.toMatchObject({ code: 'backend_unavailable', reason });
    expect(emu.faults.injected).toBeGreaterThan(0);
    emu.faults.clear();
    expect((await s.put(path, 'next')).version).toBeGreaterThanOrEqual(2);
  });

  it('throttling carries the RetryInfo delay GCP sent into Retry-After', async () => {
    const { s, path } = await seeded();
    emu.faults.set({ throttle: true, retryAfterSeconds: 7 });
    await expect(s.get(path)).rejects.toMatchObject({ reason: 'throttled', retryAfterSeconds: 7 });
  });

  it('a throttled read is not retried inside the deadline: it fails at once for the client to back off', async () => {
    const { s, path } = await seeded();
    const before = emu.faults.injected;
    emu.faults.set({ throttle: true, times: 1, match: 'AccessSecretVersion' });
    await expect(s.get(path)).rejects.toMatchObject({ reason: 'throttled' });
    expect(emu.faults.injected - before).toBe(1);
    expect((await s.get(path)).value).toBe('value');
  });

  it('transient UNAVAILABLE and a dropped connection on a read are retried by the SDK within the deadline', async () => {
    const { s, path } = await seeded();
    for (const fault of [
      { status: 503, times: 2 },
      { drop: true, times: 1 },
    ]) {
      const before = emu.faults.injected;
      emu.faults.set({ ...fault, match: 'AccessSecretVersion' });
      expect((await s.get(path)).value).toBe('value');
      expect(emu.faults.injected - before).toBe(fault.times);
    }
  });

  // The SDK's default for AccessSecretVersion retries UNAVAILABLE for up to 600 s. Here it keeps
  // retrying (several attempts reach the emulator) and still gives up by the deadline: this test's
  // 5 s timeout would fail long before 600 s.
  it("the SDK's 600 s access retry is bounded by the deadline", async () => {
    const { s, path } = await seeded();
    const before = emu.faults.injected;
    emu.faults.set({ status: 503, match: 'AccessSecretVersion' });
    await expect(s.get(path)).rejects.toMatchObject({ code: 'backend_unavailable' });
    expect(emu.faults.injected - before).toBeGreaterThan(1);
    // The RPCs stop too, not just the promise: no attempt reaches the emulator after the deadline.
    const atDeadline = emu.faults.injected;
    await new Promise((r) => setTimeout(r, 300));
    expect(emu.faults.injected).toBe(atDeadline);
  }, 5000);

  it('a slow first RPC leaves no time for the next one: a multi-call read stops at the deadline', async () => {
    const { s: writer, path } = await seeded();
    await writer.put(path, 'two');
    await writer.delete(path, 2); // latest alias now fails: the read needs list + access
    const s = service(); // another replica: it knows nothing of these versions, so it must list
    const calls = () => emu.faults.injected;
    emu.faults.set({ latencyMs: 60_000, match: 'ListSecretVersions' });
    await expect(s.get(path)).rejects.toMatchObject({ reason: 'timeout' });
    emu.faults.set({ latencyMs: 0, match: 'AccessSecretVersion' });
    const before = calls();
    await new Promise((r) => setTimeout(r, 200));
    expect(calls()).toBe(before); // the access after the list was never sent
  });

  it("the gateway's abort settles an adapter call at once", async () => {
    const a = adapterFor(emu, 60_000);
    const path = randomPath();
    await a.write(path, 'v');
    emu.faults.set({ latencyMs: 60_000 });
    const controller = new AbortController();
    const pending = a.read(path, undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'backend_unavailable', reason: 'timeout' });
    await a.close();
  });

  it('PERMISSION_DENIED is a backend error (502), not unavailability', async () => {
    const { s, path } = await seeded();
    emu.denied.add('AccessSecretVersion');
    await expect(s.get(path)).rejects.toMatchObject({ code: 'backend_error', reason: 'denied' });
    emu.denied.add('DestroySecretVersion');
    await expect(s.delete(path, 1)).rejects.toMatchObject({ code: 'backend_error', reason: 'denied' });
  });

  it('check() reports an unreachable or throttling backend', async () => {
    const s = service();
    await s.check();
    for (const fault of [{ status: 503 }, { throttle: true }, { drop: true }]) {
      emu.faults.set(fault);
      await expect(s.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
      emu.faults.clear();
    }
    await s.check();
  });

  it('an emulator that is gone is unreachable, within the deadline', async () => {
    const gone = await startGcpEmulator();
    const a = adapterFor(gone, DEADLINE);
    const path = randomPath();
    await a.write(path, 'v');
    await gone.stop();
    const s = new SecretService(a, { deadlineMs: DEADLINE });
    await expect(s.get(path)).rejects.toMatchObject({ code: 'backend_unavailable' });
    await expect(s.put(path, 'w')).rejects.toMatchObject({ code: 'backend_unavailable' });
    await a.close();
  });
});
