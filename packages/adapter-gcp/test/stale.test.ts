import { setTimeout as sleep } from 'node:timers/promises';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFor, randomPath } from './helpers.ts';

// Issue 14: Secret Manager is strongly consistent only for "add a version, then access that version
// by number"; latest, listings and reads after a destroy or a delete-all are eventually consistent
// (https://cloud.google.com/secret-manager/docs/reference/consistency). The emulator's reads lag a
// full second here, so every read below races a write it cannot see yet.
let emu: GcpEmulator;
beforeAll(async () => {
  emu = await startGcpEmulator({ staleReadMs: 1000 });
});
afterAll(() => emu.stop());
// Past the window: the versions written so far are old news to every read.
const converge = () => sleep(1100);

describe('one adapter over stale reads', () => {
  it('latest right after a write is that write, though the alias still shows the one before', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    expect(await a.write(path, 'one')).toBe(1);
    expect(await a.read(path, undefined)).toEqual({ value: 'one', version: 1 });
    expect(await a.write(path, 'two')).toBe(2);
    expect(await a.read(path, undefined)).toEqual({ value: 'two', version: 2 });
  });

  it('a destroyed version is not served, by number or as latest', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two']) await a.write(path, v);
    await converge();
    expect(await a.deleteVersion(path, 2)).toBe(true);
    expect(await a.read(path, 2)).toBeNull();
    expect(await a.read(path, undefined)).toEqual({ value: 'one', version: 1 });
    expect(await a.deleteVersion(path, 1)).toBe(true);
    expect(await a.read(path, undefined)).toBeNull();
  });

  it('after delete-all the old versions are not served; a write right after is, at version 1', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['old-1', 'old-2']) await a.write(path, v);
    await converge();
    expect(await a.deleteSecret(path)).toBe(true);
    expect(await a.read(path, undefined)).toBeNull();
    expect(await a.read(path, 2)).toBeNull();
    expect(await a.write(path, 'new-1')).toBe(1);
    expect(await a.read(path, undefined)).toEqual({ value: 'new-1', version: 1 });
    expect(await a.read(path, 1)).toEqual({ value: 'new-1', version: 1 });
    expect(await a.read(path, 2)).toBeNull();
  });
});
