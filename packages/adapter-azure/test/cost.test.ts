import { type AzureEmulator, startAzureEmulator } from '@secret-gateway/emulators/azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName, versionTags } from '../src/index.ts';
import { adapterFor } from './helpers.ts';

// Issue 14, item 1: Key Vault never drops a version (disabled ones stay listed, 25 a page), so a
// read or write that lists them all costs more with every rotation. Counted at 2,000 versions.
let emu: AzureEmulator;
beforeAll(async () => {
  emu = await startAzureEmulator();
});
afterAll(() => emu.stop());

const HISTORY = 2000;
let n = 0;
/** A path whose secret already holds `HISTORY` versions written by the adapter's tag scheme. */
function seeded(count = HISTORY): string {
  const path = `tfy-secret/cost/p${++n}`;
  for (let v = 1; v <= count; v++)
    emu.state.set(secretName(path), { value: `value-${v}`, tags: versionTags(1, v) });
  return path;
}

/** Requests the emulator saw while `fn` ran. */
async function calls<T>(fn: () => Promise<T>): Promise<[T, number]> {
  emu.faults.resetCounts();
  const result = await fn();
  return [result, emu.faults.count()];
}

describe('Azure: cost per operation does not grow with the history', () => {
  it('at 2,000 versions an uncached latest read takes at most 2 calls, a write at most 4', async () => {
    const path = seeded();
    const a = adapterFor(emu);
    await a.check(); // the SDK's first, token-less challenge request is not the read's cost
    const [read, readCalls] = await calls(() => a.read(path, undefined));
    expect(read).toEqual({ value: `value-${HISTORY}`, version: HISTORY });
    expect(readCalls).toBeLessThanOrEqual(2);
    const [written, writeCalls] = await calls(() => a.write(path, 'next'));
    expect(written).toBe(HISTORY + 1);
    expect(writeCalls).toBeLessThanOrEqual(4);
    // A second adapter (another replica) that never read the path: one more call to find the base.
    const b = adapterFor(emu);
    await b.check();
    const [again, coldCalls] = await calls(() => b.write(path, 'again'));
    expect(again).toBe(HISTORY + 2);
    expect(coldCalls).toBeLessThanOrEqual(5);
    const [latest, latestCalls] = await calls(() => a.read(path, undefined));
    expect(latest).toEqual({ value: 'again', version: HISTORY + 2 });
    expect(latestCalls).toBeLessThanOrEqual(2);
  });

  it('a version read by number that is the latest costs one call; older ones still list', async () => {
    const path = seeded();
    const a = adapterFor(emu);
    await a.check();
    const [same, sameCalls] = await calls(() => a.read(path, HISTORY));
    expect(same).toEqual({ value: `value-${HISTORY}`, version: HISTORY });
    expect(sameCalls).toBe(1);
    expect(await a.read(path, 7)).toEqual({ value: 'value-7', version: 7 });
  });

  it('when the newest version is deleted, reads fall back to the listing and stay correct', async () => {
    const path = seeded(60); // listings of 2,000 versions would only make this slow
    const a = adapterFor(emu);
    expect(await a.deleteVersion(path, 60)).toBe(true);
    expect(await a.read(path, undefined)).toEqual({ value: 'value-59', version: 59 });
    expect(await a.write(path, 'after')).toBe(61);
    expect(await a.read(path, 60)).toBeNull();
    expect(await a.read(path, undefined)).toEqual({ value: 'after', version: 61 });
  });
});
