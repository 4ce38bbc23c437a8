import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, settingsFromEnv } from '../src/index.ts';

describe('SQLite settings from the environment', () => {
  it('reads SGW_SQLITE_* without touching the disk: no key generated, no database made', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sgw-sqlite-config-'));
    const settings = settingsFromEnv(
      { SGW_SQLITE_PREFETCH: 'FALSE', SGW_SQLITE_CACHE_MIB: '128', SGW_SQLITE_GROUP_COMMIT: '0' },
      { dataDir },
    );
    expect(settings).toEqual({
      file: join(dataDir, 'secrets.db'),
      keySource: join(dataDir, 'master.key'),
      cacheMiB: 128,
      mmapMiB: undefined,
      prefetch: false,
      groupCommit: false,
    });
    expect(readdirSync(dataDir)).toEqual([]);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
    const key = `${'A'.repeat(43)}=`;
    const withKey = settingsFromEnv({ SGW_MASTER_KEY: key }, { dataDir });
    expect(withKey.prefetch).toBe(true);
    expect(withKey.groupCommit).toBe(true);
    expect(describeSettings(withKey)).toBe(
      `sqlite: ${join(dataDir, 'secrets.db')}, master key from SGW_MASTER_KEY`,
    );
  });

  it.each([
    [{ SGW_SQLITE_PREFETCH: 'no' }, /SGW_SQLITE_PREFETCH must be true, false, 1 or 0/],
    [{ SGW_SQLITE_GROUP_COMMIT: 'maybe' }, /SGW_SQLITE_GROUP_COMMIT must be true, false, 1 or 0/],
    [{ SGW_SQLITE_CACHE_MIB: 'lots' }, /SGW_SQLITE_CACHE_MIB must be a whole number/],
    [{ SGW_SQLITE_MMAP_MIB: '-1' }, /SGW_SQLITE_MMAP_MIB must be a whole number/],
  ])('%j is refused, naming the variable', (env, message) => {
    expect(() => settingsFromEnv(env, { dataDir: '/nonexistent' })).toThrow(message);
  });
});
