import { SecretService } from '@secret-gateway/core';
import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AwsAdapter } from '../src/index.ts';
import { adapterFor, randomPath } from './helpers.ts';

// Faults injected in the emulator, seen through the adapter and SecretService with a short deadline.
let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterEach(() => {
  emu.faults.clear();
  emu.state.denied.clear();
});
afterAll(() => emu.stop());

const DEADLINE = 500;
const service = () => new SecretService(adapterFor(emu), { deadlineMs: DEADLINE });
async function seeded(): Promise<{ s: SecretService; path: string }> {
  const s = service();
  const path = randomPath();
  await s.put(path, 'value');
  return { s, path };
}
const injected = () => emu.faults.injected;

describe('AWS faults become typed errors within the deadline', () => {
  it.each([
    [{ throttle: true }, 'throttled'],
    [{ status: 500 }, 'server_error'],
    [{ status: 503 }, 'server_error'],
    [{ latencyMs: 60_000 }, 'timeout'],
  ])('read with %j -> backend_unavailable (%s), then recovers', async (fault, reason) => {
    const { s, path } = await seeded();
    emu.faults.set(fault);
    await expect(s.get(path)).rejects.toMatchObject({ code: 'backend_unavailable', reason });
    emu.faults.clear();
    expect((await s.get(path)).value).toBe('value');
  });

  it('a connection dropped on every attempt -> backend_unavailable', async () => {
    const { s, path } = await seeded();
    emu.faults.set({ drop: true });
    await expect(s.get(path)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: expect.stringMatching(/^(unreachable|timeout)$/),
    });
  });

  it.each([
    [{ throttle: true }, 'throttled'],
    [{ status: 500 }, 'server_error'],
    [{ latencyMs: 60_000 }, 'timeout'],
  ])(
    'write with %j on PutSecretValue -> backend_unavailable (%s); the next write takes the next number',
    async (fault, reason) => {
      const { s, path } = await seeded();
      emu.faults.set({ ...fault, match: 'PutSecretValue' });
      await expect(s.put(path, 'next')).rejects.toMatchObject({ code: 'backend_unavailable', reason });
      emu.faults.clear();
      expect((await s.put(path, 'next')).version).toBe(2);
    },
  );

  it('throttling is not retried inside the deadline: one attempt, Retry-After 1 s, for the client to back off', async () => {
    const { s, path } = await seeded();
    const before = injected();
    emu.faults.set({ throttle: true, match: 'GetSecretValue' });
    await expect(s.get(path)).rejects.toMatchObject({ reason: 'throttled', retryAfterSeconds: 1 });
    expect(injected() - before).toBe(1);
  });

  it('transient 5xx answers and a dropped connection are retried by the SDK within the deadline', async () => {
    const { s, path } = await seeded();
    for (const fault of [
      { status: 503, times: 2 },
      { status: 500, times: 1 },
      { drop: true, times: 1 },
    ]) {
      const before = injected();
      emu.faults.set({ ...fault, match: 'GetSecretValue' });
      expect((await s.get(path)).value).toBe('value');
      expect(injected() - before).toBe(fault.times);
    }
    // A write retried after a 5xx uses the same ClientRequestToken: one version, not two.
    emu.faults.set({ status: 503, times: 1, match: 'PutSecretValue' });
    expect((await s.put(path, 'two')).version).toBe(2);
    expect((await s.put(path, 'three')).version).toBe(3);
  });

  it('a slow backend: the call ends at the deadline and no attempt starts after it', async () => {
    const { s, path } = await seeded();
    emu.faults.set({ latencyMs: 60_000, match: 'DescribeSecret' });
    const before = injected();
    await expect(s.get(path)).rejects.toMatchObject({ reason: 'timeout' });
    const atDeadline = injected();
    expect(atDeadline - before).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(injected()).toBe(atDeadline);
  });

  it("the gateway's abort settles an adapter call at once", async () => {
    const a = adapterFor(emu, 'recovery-window', 60_000);
    const path = randomPath();
    await a.write(path, 'v');
    emu.faults.set({ latencyMs: 60_000 });
    const controller = new AbortController();
    const pending = a.read(path, undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'backend_unavailable', reason: 'timeout' });
    await a.close();
  });

  it('the adapter bounds calls by its own timeout when the caller passes no signal', async () => {
    const a = adapterFor(emu, 'recovery-window', 300);
    emu.faults.set({ latencyMs: 60_000 });
    await expect(a.read(randomPath(), undefined)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'timeout',
    });
    await a.close();
  });

  it('AccessDeniedException is a backend error (502), not unavailability, for reads, writes and check()', async () => {
    const { s, path } = await seeded();
    emu.state.denied.add('GetSecretValue');
    await expect(s.get(path)).rejects.toMatchObject({ code: 'backend_error', reason: 'denied' });
    emu.state.denied.add('PutSecretValue');
    await expect(s.put(path, 'x')).rejects.toMatchObject({ code: 'backend_error', reason: 'denied' });
    emu.state.denied.add('DescribeSecret');
    await expect(adapterFor(emu).check()).rejects.toMatchObject({ code: 'backend_error', reason: 'denied' });
    // SecretService passes the adapter's typed cause on; the gateway's /readyz answers 503 with it.
    await expect(s.check()).rejects.toMatchObject({ code: 'backend_error', reason: 'denied' });
  });

  it('check() describes one name under the prefix and needs no ListSecrets permission', async () => {
    const s = service();
    emu.state.denied.add('ListSecrets');
    await s.check();
    for (const fault of [{ status: 503 }, { throttle: true }, { drop: true }]) {
      emu.faults.set(fault);
      await expect(s.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
      emu.faults.clear();
    }
    await s.check();
  });

  it('an emulator that is gone is unreachable, within the deadline, for every operation', async () => {
    const gone = await startAwsEmulator();
    const a = adapterFor(gone);
    const path = randomPath();
    await a.write(path, 'v');
    await gone.stop();
    const s = new SecretService(a, { deadlineMs: DEADLINE });
    await expect(s.get(path)).rejects.toMatchObject({ code: 'backend_unavailable' });
    await expect(s.put(path, 'w')).rejects.toMatchObject({ code: 'backend_unavailable' });
    await expect(s.delete(path)).rejects.toMatchObject({ code: 'backend_unavailable' });
    await expect(s.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
    await a.close();
  });

  it('nothing ever listening -> backend_unavailable (unreachable)', async () => {
    const a = new AwsAdapter({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await expect(a.read('tfy-secret/faults/a', undefined)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'unreachable',
    });
    await a.close();
  });
});
