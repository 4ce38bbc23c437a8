import { SecretService } from '@secret-gateway/core';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcpClient } from '../src/index.ts';
import { adapterFor, randomPath, secretOf, versionNameOf } from './helpers.ts';

// GCP's `latest` alias is the newest version whatever its state: once the newest is destroyed it
// fails with FAILED_PRECONDITION. The gateway's latest is the newest version not deleted.
let emu: GcpEmulator;
beforeAll(async () => {
  emu = await startGcpEmulator();
});
afterAll(() => emu.stop());

describe('latest when the newest version is destroyed', () => {
  it('the raw alias fails, the adapter serves the version below', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    expect(await a.deleteVersion(path, 3)).toBe(true);
    // What a naive adapter would do:
    const sdk = createGcpClient({
      projectId: emu.project,
      endpoint: emu.url,
      insecure: true,
      accessToken: emu.token,
    });
    await expect(
      sdk.accessSecretVersion({ name: versionNameOf(emu, path, 'latest') }, { retry: { retryCodes: [] } }),
    ).rejects.toMatchObject({ code: 9 });
    await sdk.close();
    expect(await a.read(path, undefined)).toEqual({ value: 'two', version: 2 });
    expect(await a.read(path, 3)).toBeNull();
  });

  it('several destroyed on top, and holes below: the newest ENABLED one wins', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (let i = 1; i <= 8; i++) await a.write(path, `v${i}`);
    for (const n of [8, 7, 6, 4]) await a.deleteVersion(path, n);
    expect(await a.read(path, undefined)).toEqual({ value: 'v5', version: 5 });
    await a.deleteVersion(path, 5);
    expect(await a.read(path, undefined)).toEqual({ value: 'v3', version: 3 });
  });

  it('every version destroyed: absent, the path still exists for delete, the next write is not renumbered', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two']) await a.write(path, v);
    await a.deleteVersion(path, 2);
    await a.deleteVersion(path, 1);
    expect(await a.read(path, undefined)).toBeNull();
    expect(await a.write(path, 'three')).toBe(3); // a deleted number is never handed out again
    expect(await a.read(path, undefined)).toEqual({ value: 'three', version: 3 });
    await a.deleteVersion(path, 3);
    expect(await a.deleteSecret(path)).toBe(true); // it has version records, all deleted
    expect(secretOf(emu, path)).toBeUndefined();
  });

  it('an empty value in the version below is served as "", not as absent', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    await a.write(path, '');
    await a.write(path, 'x');
    await a.deleteVersion(path, 2);
    expect(await a.read(path, undefined)).toEqual({ value: '', version: 1 });
  });

  it('through SecretService: GET after DELETE of the newest version answers the one below', async () => {
    const s = new SecretService(adapterFor(emu), { deadlineMs: 2000 });
    const path = randomPath();
    await s.put(path, 'one');
    await s.put(path, 'two');
    await s.delete(path, 2);
    expect(await s.get(path)).toMatchObject({ version: 1, value: 'one' });
    await expect(s.get(path, 2)).rejects.toMatchObject({ code: 'not_found' });
    await expect(s.delete(path, 2)).rejects.toMatchObject({ code: 'not_found' });
    expect((await s.put(path, 'three')).version).toBe(3);
    await s.close();
  });
});
