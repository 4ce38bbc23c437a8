import { SecretService } from '@secret-gateway/core';
import { type GcpEmulator, startGcpEmulator } from '@secret-gateway/emulators/gcp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LatestMemory, PER_MINUTE_RETRY_SECONDS } from '../src/index.ts';
import { adapterFor, randomPath } from './helpers.ts';

// Issue 14 item 4: Secret Manager's project-wide "read requests" quota (600/min: every Get and
// List; AccessSecretVersion has its own 90,000/min, https://cloud.google.com/secret-manager/quotas)
// must not be spent by the readiness probe and the latest fallback on every call.
const READS = 6;
// A fresh emulator (and quota minute) per test.
let emu: GcpEmulator;
beforeEach(async () => {
  emu = await startGcpEmulator({ readQuotaPerMinute: READS });
});
afterEach(() => emu.stop());

describe('latest when the newest version is destroyed, under the read quota', () => {
  it('twenty uncached reads list once: the remembered version is checked by access calls', async () => {
    const a = adapterFor(emu);
    const other = adapterFor(emu); // writes by another replica: `a` has to list to find them
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await other.write(path, v);
    await other.deleteVersion(path, 3);
    emu.faults.resetCounts();
    for (let i = 0; i < 20; i++) expect(await a.read(path, undefined)).toEqual({ value: 'two', version: 2 });
    expect(emu.faults.count('ListSecretVersions')).toBe(1);
    expect(emu.faults.count('AccessSecretVersion')).toBe(1 + 1 + 19 * 2); // alias + listed, then alias + remembered
  });

  it('stays correct: a newer write wins, a destroyed remembered version is noticed (also when another replica destroys it)', async () => {
    const a = adapterFor(emu);
    const other = adapterFor(emu); // a second gateway replica
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    await a.deleteVersion(path, 3);
    expect(await a.read(path, undefined)).toEqual({ value: 'two', version: 2 }); // remembered: 2
    await other.write(path, 'four');
    expect(await a.read(path, undefined)).toEqual({ value: 'four', version: 4 });
    await other.write(path, 'five');
    await other.deleteVersion(path, 5); // the alias fails again, and 2 is no longer the newest enabled
    expect(await a.read(path, undefined)).toEqual({ value: 'four', version: 4 });
    await other.deleteVersion(path, 4);
    expect(await a.read(path, undefined)).toEqual({ value: 'two', version: 2 });
    await other.deleteVersion(path, 2);
    expect(await a.read(path, undefined)).toEqual({ value: 'one', version: 1 });
    await other.deleteVersion(path, 1);
    expect(await a.read(path, undefined)).toBeNull();
  });

  it('a write by this adapter forgets the path: a newer version below a destroyed newest is found', async () => {
    const a = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    await a.deleteVersion(path, 3);
    expect(await a.read(path, undefined)).toMatchObject({ version: 2 }); // remembered: 2
    for (const v of ['four', 'five']) await a.write(path, v);
    await a.deleteVersion(path, 5); // no read in between: only the write can have told the memory
    expect(await a.read(path, undefined)).toEqual({ value: 'four', version: 4 });
  });

  it('after a delete-all by this adapter, it serves only what it wrote since, for the memory TTL', async () => {
    const a = adapterFor(emu);
    const other = adapterFor(emu);
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    await a.deleteVersion(path, 3);
    expect(await a.read(path, undefined)).toMatchObject({ version: 2 }); // remembered: 2
    await a.deleteSecret(path);
    for (const v of ['new1', 'new2', 'new3', 'new4']) await other.write(path, v);
    await other.deleteVersion(path, 4);
    // A stale read could serve the old secret's versions under these numbers (docs/backends/gcp.md
    // "Consistency"): another replica's writes right after this one's delete-all stay hidden from it
    // until the entry expires; what `a` writes itself it serves at once.
    expect(await a.read(path, undefined)).toBeNull();
    expect(await a.read(path, 2)).toBeNull();
    expect(await a.write(path, 'new5')).toBe(5);
    expect(await a.read(path, undefined)).toEqual({ value: 'new5', version: 5 });
    expect(await other.read(path, undefined)).toEqual({ value: 'new5', version: 5 });
  });
});

describe('LatestMemory under stale reads', () => {
  it('hides what this process destroyed, and after its delete-all what it did not write since', () => {
    const m = new LatestMemory();
    for (const n of [1, 2, 3]) m.enabled('s', n, true);
    m.destroyed('s', 3);
    expect([m.hidden('s', 3), m.hidden('s', 2), m.known('s')]).toEqual([true, false, [2, 1]]);
    m.deletedAll('s');
    expect([m.hidden('s', 1), m.known('s')]).toEqual([true, []]);
    m.enabled('s', 1, true);
    expect([m.hidden('s', 1), m.hidden('s', 2), m.known('s')]).toEqual([false, true, [1]]);
  });
});

describe('readiness under the read quota', () => {
  it('the full probe runs once; repeated checks use AccessSecretVersion only', async () => {
    const a = adapterFor(emu);
    emu.faults.resetCounts();
    for (let i = 0; i < 20; i++) await a.check();
    expect(emu.faults.count('GetSecret')).toBe(1);
    expect(emu.faults.count('AddSecretVersion')).toBe(1);
    expect(emu.faults.count('AccessSecretVersion')).toBe(20);
    expect(emu.state.secrets.size).toBe(0); // the write probe stored nothing
  });

  it('still sees a lost role and an outage, and runs the full probe again after a failure', async () => {
    const a = adapterFor(emu);
    await a.check();
    emu.denied.add('AccessSecretVersion');
    await expect(a.check()).rejects.toMatchObject({ reason: 'denied' });
    emu.denied.clear();
    emu.faults.set({ status: 503 });
    await expect(a.check()).rejects.toMatchObject({ code: 'backend_unavailable' });
    emu.faults.clear();
    emu.faults.resetCounts();
    await a.check();
    expect(emu.faults.count('GetSecret')).toBe(1);
  });
});

describe('a spent per-minute quota', () => {
  it('answers throttled with a Retry-After of half a minute, not 1 s (GCP sends no RetryInfo)', async () => {
    const quota = await startGcpEmulator({ readQuotaPerMinute: 1 });
    const a = adapterFor(quota);
    const other = adapterFor(quota); // writes by another replica: `a` has to list to find them
    const path = randomPath();
    for (const v of ['one', 'two']) await other.write(path, v);
    await other.deleteVersion(path, 2);
    await a.write(randomPath(), 'x');
    const s = new SecretService(a, { deadlineMs: 2000 });
    // The one read of the minute goes to the listing; a second path's listing finds the quota spent.
    const second = randomPath();
    for (const v of ['one', 'two']) await other.write(second, v);
    await other.deleteVersion(second, 2);
    expect((await s.get(path)).version).toBe(1);
    await expect(s.get(second)).rejects.toMatchObject({
      code: 'backend_unavailable',
      reason: 'throttled',
      retryAfterSeconds: PER_MINUTE_RETRY_SECONDS,
    });
    await s.close();
    await quota.stop();
  });

  it('RetryInfo, when GCP sends one, still wins', async () => {
    const s = new SecretService(adapterFor(emu), { deadlineMs: 2000 });
    const path = randomPath();
    await s.put(path, 'v');
    emu.faults.set({ throttle: true, retryAfterSeconds: 7 });
    await expect(s.get(path)).rejects.toMatchObject({ reason: 'throttled', retryAfterSeconds: 7 });
    await s.close();
  });
});

describe('LatestMemory', () => {
  it('is bounded (least recently used goes) and entries expire', () => {
    let now = 0;
    const m = new LatestMemory(2, 1000, () => now);
    m.enabled('a', 1);
    m.enabled('b', 2);
    expect(m.known('a')).toEqual([1]); // a is now the most recently used
    m.enabled('c', 3);
    expect([m.known('a'), m.known('b'), m.known('c'), m.size]).toEqual([[1], [], [3], 2]);
    now = 1000;
    expect(m.known('a')).toEqual([]);
  });
});
