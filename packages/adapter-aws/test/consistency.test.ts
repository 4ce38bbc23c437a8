import { type AwsEmulator, startAwsEmulator } from '@secret-gateway/emulators/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsAdapter } from '../src/index.ts';
import { tombstonesFrom, tombstoneTags } from '../src/versions.ts';
import { adapterFor, randomPath, secretOf } from './helpers.ts';

const optionsOf = (emu: AwsEmulator) => ({
  region: emu.region,
  endpoint: emu.url,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

// Issue 14: AWS Secrets Manager is eventually consistent and quota-bound. Each test here failed
// before the adapter handled it.
let stale: AwsEmulator;
let quota: AwsEmulator;
let now = Date.now();
beforeAll(async () => {
  stale = await startAwsEmulator({ staleReadMs: 150, forceDeleteDelayMs: 50 });
  quota = await startAwsEmulator({ versionQuota: true, now: () => now });
});
afterAll(async () => {
  await stale.stop();
  await quota.stop();
});

describe('AWS eventual consistency (DescribeSecret 150 ms stale)', () => {
  it('two quick version deletes keep both tombstones', async () => {
    const a = adapterFor(stale);
    const path = randomPath();
    for (const v of ['one', 'two', 'three']) await a.write(path, v);
    expect(await a.deleteVersion(path, 1)).toBe(true);
    expect(await a.deleteVersion(path, 2)).toBe(true);
    const fresh = adapterFor(stale); // another process: no memory of the deletes, only AWS's tags
    await new Promise((r) => setTimeout(r, 200));
    expect(await fresh.read(path, 1)).toBeNull();
    expect(await fresh.read(path, 2)).toBeNull();
    expect(await fresh.read(path, undefined)).toEqual({ value: 'three', version: 3 });
  });

  it('two PUTs of the same value get two versions', async () => {
    const a = adapterFor(stale);
    const path = randomPath();
    expect(await a.write(path, 'same')).toBe(1);
    expect(await a.write(path, 'same')).toBe(2);
    expect(await a.write(path, 'same')).toBe(3);
    expect(secretOf(stale, path)?.versions.size).toBe(3);
    expect(await a.read(path, undefined)).toEqual({ value: 'same', version: 3 });
  });

  it('a write right after a delete-all restores the secret though AWS still calls it "marked for deletion"', async () => {
    const a = adapterFor(stale);
    const path = randomPath();
    await a.write(path, 'old');
    expect(await a.deleteSecret(path)).toBe(true);
    expect(await a.deleteSecret(path)).toBe(false);
    expect(await a.write(path, 'new')).toBe(1);
    expect(await a.read(path, undefined)).toEqual({ value: 'new', version: 1 });
  });

  it('force: a second delete-all answers false, and a write after it starts at 1', async () => {
    const a = adapterFor(stale, 'force');
    const path = randomPath();
    await a.write(path, 'old');
    expect(await a.deleteSecret(path)).toBe(true);
    expect(await a.deleteSecret(path)).toBe(false);
    expect(await a.write(path, 'new')).toBe(1);
    expect(await a.read(path, undefined)).toEqual({ value: 'new', version: 1 });
  });
});

describe('AWS version quota (100 versions in 24 hours)', () => {
  it('a full secret answers 503 with the time until the oldest version is a day old, after one put', async () => {
    const a = new AwsAdapter({ ...optionsOf(quota), now: () => now });
    const path = randomPath();
    for (let i = 1; i <= 100; i++) {
      await a.write(path, `v${i}`);
      now += 60_000;
    }
    quota.faults.resetCounts();
    const error = await a.write(path, 'v101').then(
      () => undefined,
      (e: unknown) => e as { code?: string; reason?: string; retryAfterSeconds?: number; message?: string },
    );
    expect(error).toMatchObject({ code: 'backend_unavailable', reason: 'throttled' });
    // Version 1 was made 100 minutes ago: it leaves the 24-hour window in 22 h 20 min, capped at an hour.
    expect(error?.retryAfterSeconds).toBe(3600);
    expect(error?.message).toMatch(/last 24 hours/);
    expect(error?.message).not.toMatch(/v101/);
    expect(quota.faults.count('PutSecretValue')).toBe(1);
    // Nearly a day later: minutes, not an hour.
    now += 24 * 3_600_000 - 110 * 60_000;
    const soon = await a.write(path, 'v101').then(
      () => undefined,
      (e: { retryAfterSeconds?: number }) => e,
    );
    expect(soon?.retryAfterSeconds).toBe(10 * 60);
    now += 10 * 60_000 + 1000;
    expect(await a.write(path, 'v101')).toBe(101);
  });
});

describe('AWS tag values', () => {
  it("tombstone tags stay within TagResource's 255 characters and decode to the same set", () => {
    const deleted = Array.from({ length: 1000 }, (_, i) => 2 * i + 1);
    const tags = tombstoneTags('abcdefghij', deleted);
    expect(tags.length).toBeGreaterThan(2);
    expect(Math.max(...tags.map((t) => t.Value?.length ?? 0))).toBe(255);
    expect([...tombstonesFrom('abcdefghij', tags)].sort((a, b) => a - b)).toEqual(deleted);
  });
});
