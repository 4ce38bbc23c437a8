import { SecretService } from '@secret-gateway/core';
import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsAdapter } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

let emu: AwsEmulator;
let service: SecretService;
beforeAll(async () => {
  emu = await startAwsEmulator();
  service = new SecretService(adapterFor(emu), { deadlineMs: 400 });
  await service.put('tfy-secret/faults/a', 'value');
});
afterAll(() => emu.stop());

describe('AWS faults become typed errors within the deadline', () => {
  it.each([
    [{ throttle: true }, 'throttled'],
    [{ status: 500 }, 'server_error'],
    // The SDK reports a connection dropped mid-request as a TimeoutError.
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

  it('nothing listening -> backend_unavailable', async () => {
    const down = new SecretService(
      new AwsAdapter({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        maxAttempts: 1,
      }),
      { deadlineMs: 1000 },
    );
    await expect(down.get('tfy-secret/faults/a')).rejects.toMatchObject({ code: 'backend_unavailable' });
    await expect(down.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
  });
});
