import { describe, expect, it } from 'vitest';
import { describeSettings, keysFromEnv, settingsFromEnv } from '../src/index.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('settings from the environment', () => {
  it('SGW_POSTGRES_URL wins over DATABASE_URL; the description has no password', () => {
    const s = settingsFromEnv({
      SGW_POSTGRES_URL: 'postgres://gw:hunter2@db.internal:6432/secrets?sslmode=verify-full',
      DATABASE_URL: 'postgres://other@elsewhere/x',
    });
    expect(s.urlSource).toBe('SGW_POSTGRES_URL');
    expect(s.poolMax).toBe(10);
    const text = describeSettings(s);
    expect(text).toBe(
      'postgres: db.internal:6432/secrets from SGW_POSTGRES_URL, sslmode verify-full, pool 10, group commit on',
    );
    expect(text).not.toContain('hunter2');
  });

  it('SGW_POSTGRES_CA_FILE becomes sslrootcert, with verify-full unless the URL names a mode', () => {
    const s = settingsFromEnv({
      DATABASE_URL: 'postgres://gw@db/secrets',
      SGW_POSTGRES_CA_FILE: '/etc/ca.pem',
    });
    const url = new URL(s.url);
    expect(url.searchParams.get('sslrootcert')).toBe('/etc/ca.pem');
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    const kept = settingsFromEnv({
      DATABASE_URL: 'postgres://gw@db/s?sslmode=verify-ca',
      SGW_POSTGRES_CA_FILE: '/ca',
    });
    expect(new URL(kept.url).searchParams.get('sslmode')).toBe('verify-ca');
  });

  it('bad settings name the variable and never echo the URL', () => {
    expect(() => settingsFromEnv({})).toThrow(/SGW_POSTGRES_URL \(or DATABASE_URL\) must be set/);
    const bad = () => settingsFromEnv({ SGW_POSTGRES_URL: 'not a url with hunter2' });
    expect(bad).toThrow(/SGW_POSTGRES_URL is not a URL/);
    expect(bad).not.toThrow(/hunter2/);
    expect(() => settingsFromEnv({ DATABASE_URL: 'mysql://x@y/z' })).toThrow(
      /DATABASE_URL must start with postgres/,
    );
    expect(() => settingsFromEnv({ DATABASE_URL: 'postgres://x@y/z?sslmode=always' })).toThrow(
      /sslmode must be one of/,
    );
    expect(() => settingsFromEnv({ DATABASE_URL: 'postgres://x@y/z', SGW_POSTGRES_POOL_MAX: '0' })).toThrow(
      /SGW_POSTGRES_POOL_MAX/,
    );
  });

  it('SGW_POSTGRES_GROUP_COMMIT turns group commit off; a bad spelling names the variable', () => {
    const base = { DATABASE_URL: 'postgres://gw@db/s' };
    expect(settingsFromEnv(base).groupCommit).toBe(true);
    const off = settingsFromEnv({ ...base, SGW_POSTGRES_GROUP_COMMIT: '0' });
    expect(off.groupCommit).toBe(false);
    expect(describeSettings(off)).toMatch(/group commit off$/);
    expect(() => settingsFromEnv({ ...base, SGW_POSTGRES_GROUP_COMMIT: 'maybe' })).toThrow(
      /SGW_POSTGRES_GROUP_COMMIT must be/,
    );
  });

  it('the master key is required (no key is generated for a shared database)', () => {
    expect(() => keysFromEnv({})).toThrow(/SGW_MASTER_KEY must be set/);
    expect(() => keysFromEnv({ SGW_MASTER_KEY: 'c2hvcnQ=' })).toThrow(/exactly 32 bytes/);
    expect(keysFromEnv({ SGW_MASTER_KEY: KEY, SGW_MASTER_KEY_PREVIOUS: KEY }).previous).toHaveLength(1);
  });
});
