import { SecretService } from '@secret-gateway/core';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromEnv } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

// Reads the emulator's state to prove names, labels and version states.
let emu: GcpEmulator;
beforeAll(async () => {
  emu = await startGcpEmulator();
});
afterAll(() => emu.stop());

describe('what the GCP adapter stores', () => {
  it("encodes the path into a legal secret id, labelled as the gateway's", async () => {
    await adapterFor(emu).write('tfy-secret/acme/prod/db_pass.v2', 'x');
    const secret = emu.state.secrets.get('tfy-secret_2facme_2fprod_2fdb_5fpass_2ev2');
    expect(secret?.labels).toEqual({ 'managed-by': 'secret-gateway' });
    expect(secret?.versions.get(1)?.data?.toString()).toBe('x');
  });

  it('a path whose id would pass 255 characters gets a hashed id with the path in an annotation', async () => {
    const long = `tfy-secret/long/${'p'.repeat(300)}`;
    await adapterFor(emu).write(long, 'y');
    const hashed = [...emu.state.secrets.values()].find((s) => s.id.startsWith('_x'));
    expect(hashed?.id).toMatch(/^_x[a-z2-7]{52}$/);
    expect(hashed?.annotations['sgw-path']).toBe(long);
  });

  it('deleting a version destroys it; latest skips a destroyed newest version (the `latest` alias would fail)', async () => {
    const a = adapterFor(emu);
    for (const v of ['one', 'two', 'three']) await a.write('tfy-secret/bd/latest', v);
    expect(await a.deleteVersion('tfy-secret/bd/latest', 3)).toBe(true);
    const secret = emu.state.secrets.get('tfy-secret_2fbd_2flatest');
    expect(secret?.versions.get(3)).toMatchObject({ state: 'DESTROYED', data: undefined });
    expect(await a.read('tfy-secret/bd/latest', undefined)).toEqual({ value: 'two', version: 2 });
    // A version disabled by someone else in GCP is not served either.
    if (secret)
      emu.state.setState('projects/sgw-emulator/secrets/tfy-secret_2fbd_2flatest/versions/2', 'DISABLED');
    expect(await a.read('tfy-secret/bd/latest', undefined)).toEqual({ value: 'one', version: 1 });
    expect(await a.write('tfy-secret/bd/latest', 'four')).toBe(4);
  });

  it('delete-all deletes the secret; the next write re-creates it at version 1', async () => {
    const a = adapterFor(emu);
    await a.write('tfy-secret/bd/all', 'old');
    await a.write('tfy-secret/bd/all', 'old2');
    expect(await a.deleteSecret('tfy-secret/bd/all')).toBe(true);
    expect(emu.state.secrets.has('tfy-secret_2fbd_2fall')).toBe(false);
    expect(await a.write('tfy-secret/bd/all', 'new')).toBe(1);
  });

  it('fromEnv reads GOOGLE_CLOUD_PROJECT and the emulator settings, and names what is missing', async () => {
    expect(() => fromEnv({})).toThrow(/needs GOOGLE_CLOUD_PROJECT/);
    const a = fromEnv({
      GOOGLE_CLOUD_PROJECT: emu.project,
      SGW_GCP_ENDPOINT: emu.url,
      SGW_GCP_INSECURE: 'true',
      SGW_GCP_ACCESS_TOKEN: emu.token,
      SGW_GCP_LABELS: 'team=platform',
    });
    await a.write('tfy-secret/bd/env', 'z');
    expect(emu.state.secrets.get('tfy-secret_2fbd_2fenv')?.labels).toMatchObject({ team: 'platform' });
    await a.close();
  });
});

describe('GCP faults become typed errors within the deadline', () => {
  it.each([
    [{ throttle: true }, 'throttled'],
    [{ status: 503 }, 'unreachable'],
    [{ status: 500 }, 'server_error'],
    [{ latencyMs: 60_000 }, 'timeout'],
  ])('%j -> backend_unavailable (%s), and recovers', async (fault, reason) => {
    const service = new SecretService(adapterFor(emu, 400), { deadlineMs: 500 });
    await service.put('tfy-secret/faults/a', 'value');
    emu.faults.set(fault);
    await expect(service.get('tfy-secret/faults/a')).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason,
    });
    emu.faults.clear();
    expect((await service.get('tfy-secret/faults/a')).value).toBe('value');
  });

  it('the SDK does not retry access for 600 s: a throttled read fails at once, within the deadline', async () => {
    const service = new SecretService(adapterFor(emu), { deadlineMs: 3000 });
    await service.put('tfy-secret/faults/b', 'value');
    emu.faults.set({ throttle: true, times: 1 });
    await expect(service.get('tfy-secret/faults/b')).rejects.toMatchObject({ reason: 'throttled' });
    expect(emu.faults.injected).toBeGreaterThan(0);
  });
});
