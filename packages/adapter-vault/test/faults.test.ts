import { SecretService } from '@secret-gateway/core';
import { startVaultEmulator, type VaultEmulator } from '@secret-gateway/emulators/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultAdapter } from '../src/index.ts';

let emu: VaultEmulator;
let service: SecretService;
beforeAll(async () => {
  emu = await startVaultEmulator();
  service = new SecretService(new VaultAdapter({ endpoint: emu.url, auth: { token: emu.token } }), {
    deadlineMs: 300,
  });
  await service.put('tfy-secret/faults/a', 'value');
});
afterAll(() => emu.stop());

describe('Vault faults become typed errors within the deadline', () => {
  it('429 throttling -> backend_unavailable (throttled)', async () => {
    emu.faults.set({ throttle: true });
    await expect(service.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'throttled',
    });
    emu.faults.clear();
  });

  it('503 sealed -> backend_unavailable (server_error)', async () => {
    emu.faults.set({ status: 503 });
    await expect(service.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'server_error',
    });
    await expect(service.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
    emu.faults.clear();
  });

  it('a dropped connection -> backend_unavailable (unreachable)', async () => {
    emu.faults.set({ drop: true });
    await expect(service.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'unreachable',
    });
    emu.faults.clear();
  });

  it('slower than the deadline -> backend_unavailable (timeout), and recovers after', async () => {
    emu.faults.set({ latencyMs: 2000 });
    await expect(service.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'timeout',
    });
    emu.faults.clear();
    expect((await service.get('tfy-secret/faults/a')).value).toBe('value');
  });

  it('a bad token -> backend_error (denied)', async () => {
    const denied = new SecretService(new VaultAdapter({ endpoint: emu.url, auth: { token: 'wrong' } }));
    await expect(denied.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_error',
      reason: 'denied',
    });
  });

  it('nothing listening -> backend_unavailable (unreachable)', async () => {
    const down = new SecretService(
      new VaultAdapter({ endpoint: 'http://127.0.0.1:9', auth: { token: 't' } }),
      { deadlineMs: 1000 },
    );
    await expect(down.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'unreachable',
    });
    await expect(down.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
  });
});
