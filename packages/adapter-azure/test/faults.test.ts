import { SecretService } from '@secret-gateway/core';
import { type AzureEmulator, startAzureEmulator } from '@secret-gateway/emulators/azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureAdapter, staticTokenCredential } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

let emu: AzureEmulator;
let service: SecretService;
beforeAll(async () => {
  emu = await startAzureEmulator();
  service = new SecretService(adapterFor(emu), { deadlineMs: 500 });
  await service.put('tfy-secret/faults/a', 'value');
});
afterAll(() => emu.stop());

describe('Azure faults become typed errors within the deadline', () => {
  it('429 -> throttled, with the Retry-After Azure sent', async () => {
    emu.faults.set({ throttle: true, retryAfterSeconds: 4 });
    await expect(service.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'throttled',
      retryAfterSeconds: 4,
    });
    emu.faults.clear();
  });

  it.each([
    [{ status: 500 }, 'server_error'],
    [{ status: 503 }, 'server_error'],
    [{ drop: true }, expect.stringMatching(/^(unreachable|timeout)$/)],
    [{ latencyMs: 60_000 }, 'timeout'],
  ])('%j -> backend_unavailable (%s)', async (fault, reason) => {
    emu.faults.set(fault);
    await expect(service.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason,
    });
    emu.faults.clear();
    expect((await service.get('tfy-secret/faults/a')).value).toBe('value');
  });

  it('SDK retries stay inside the deadline: a throttled call with retries on still fails in time', async () => {
    const retrying = new SecretService(adapterFor(emu, { maxRetries: 3 }), { deadlineMs: 500 });
    emu.faults.set({ throttle: true, retryAfterSeconds: 30 });
    await expect(retrying.get('tfy-secret/faults/a')).rejects.toMatchObject({ code: 'backend_unavailable' });
    emu.faults.clear();
  });

  it("a Retry-After longer than what is left of the deadline fails at once as throttled, with Azure's delay", async () => {
    // The SDK would sleep the 2 s and retry; the deadline (1 s) would cut that off as `timeout`.
    const adapter = adapterFor(emu, { maxRetries: 3, timeoutMs: 1000 });
    const retrying = new SecretService(adapter, { deadlineMs: 1000 });
    emu.faults.set({ throttle: true, retryAfterSeconds: 2 });
    const before = emu.faults.injected;
    await expect(retrying.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'throttled',
      retryAfterSeconds: 2,
    });
    expect(emu.faults.injected - before).toBe(1);
    emu.faults.clear();
  });

  it('a Retry-After that fits in the deadline is waited out by the SDK and the call succeeds', async () => {
    const retrying = new SecretService(adapterFor(emu, { maxRetries: 3, timeoutMs: 5000 }), {
      deadlineMs: 5000,
    });
    emu.faults.set({ throttle: true, retryAfterSeconds: 1, times: 1 });
    expect((await retrying.get('tfy-secret/faults/a')).value).toBe('value');
    emu.faults.clear();
  });

  it('a write over 25,000 bytes is refused with 413 before Azure is called', async () => {
    const before = emu.faults.injected;
    emu.faults.set({ status: 500 });
    await expect(service.put('tfy-secret/faults/big', 'x'.repeat(25_001))).rejects.toMatchObject({
      code: 'value_too_large',
    });
    expect(emu.faults.injected).toBe(before);
    emu.faults.clear();
  });

  it('nothing listening -> backend_unavailable', async () => {
    const down = new SecretService(
      new AzureAdapter({
        vaultUrl: 'https://127.0.0.1:9',
        credential: staticTokenCredential('t'),
        disableChallengeResourceVerification: true,
        maxRetries: 0,
      }),
      { deadlineMs: 1000 },
    );
    await expect(down.get('tfy-secret/faults/a')).rejects.toMatchObject({ code: 'backend_unavailable' });
    await expect(down.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
  });
});
