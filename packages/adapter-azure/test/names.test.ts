import { COLLIDING_NAMES } from '@secret-gateway/conformance';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeName, encodePath, HASHED_PREFIX, pathOf, secretName } from '../src/names.ts';
import { pathFromTags, pathTags } from '../src/versions.ts';

const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 30 }).map((s) => `tfy-secret/${s.join('/')}`);
// Key Vault compares names without regard to case: that is the equality that must not collide.
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

describe('Azure names', () => {
  it('encode into [a-z0-9-] with - as the escape', () => {
    expect(secretName('tfy-secret/acme/prod/db-password')).toBe('tfy-0secret--acme--prod--db-0password');
    expect(secretName('tfy-secret/a/Key_v1.2')).toBe('tfy-0secret--a---key-1v1-22');
    expect(decodeName('tfy-0secret--a---key-1v1-22')).toBe('tfy-secret/a/Key_v1.2');
  });

  it('keep case twins and _ . / - apart', () => {
    const names = COLLIDING_NAMES.map((n) => secretName(`tfy-secret/x/${n}`).toLowerCase());
    expect(new Set(names).size).toBe(COLLIDING_NAMES.length);
    for (const n of COLLIDING_NAMES)
      expect(pathOf(secretName(`tfy-secret/x/${n}`))).toBe(`tfy-secret/x/${n}`);
  });

  it('are legal, reversible and collision-free for any path (property)', () => {
    fc.assert(
      fc.property(path, path, (a, b) => {
        const na = secretName(a);
        expect(na).toMatch(/^[a-z0-9-]{1,127}$/);
        expect(pathOf(na, a)).toBe(a);
        if (a !== b) expect(same(na, secretName(b))).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('hash paths whose encoding exceeds 127 characters, keeping the path in tags', () => {
    const long = `tfy-secret/${'A'.repeat(900)}/${'b'.repeat(100)}`;
    const name = secretName(long);
    expect(name).toMatch(new RegExp(`^${HASHED_PREFIX}[a-z2-7]{52}$`));
    expect(secretName(`${long.slice(0, -1)}c`)).not.toBe(name);
    const tags = pathTags(long);
    expect(Object.keys(tags)).toHaveLength(4);
    for (const value of Object.values(tags)) expect(value.length).toBeLessThanOrEqual(256);
    expect(pathOf(name, pathFromTags(tags))).toBe(long);
    // An escape "-" is never followed by "9", so no encoded name starts like a hashed one.
    fc.assert(
      fc.property(path, (p) => {
        expect(encodePath(p).startsWith(HASHED_PREFIX)).toBe(false);
      }),
    );
    expect(encodePath('sgwh/9')).toBe('sgwh--9');
    expect(() => decodeName(name)).toThrow(/not an encoded name/);
  });
});
