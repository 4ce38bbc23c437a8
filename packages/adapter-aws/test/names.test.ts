import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathOf, secretName } from '../src/names.ts';
import {
  decodeRanges,
  encodeRanges,
  parseToken,
  tombstonesFrom,
  tombstoneTags,
  versionToken,
} from '../src/versions.ts';

const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 30 }).map((s) => `tfy-secret/${s.join('/')}`);

describe('AWS names', () => {
  it('keep the path, escape ARN-suffix look-alikes, hash long paths; reversible and collision-free', () => {
    expect(secretName('tfy-secret/acme/prod/db-password')).toBe('tfy-secret/acme/prod/db-password');
    expect(secretName('tfy-secret/acme/db-abcdef')).toBe('tfy-secret/acme/db-abcdef+');
    fc.assert(
      fc.property(path, path, (a, b) => {
        const na = secretName(a);
        expect(na).toMatch(/^[A-Za-z0-9/_+=.@-]{1,512}$/);
        expect(na).not.toMatch(/-[^/]{6}$/);
        expect(pathOf(na, a)).toBe(a);
        if (a !== b) expect(na).not.toBe(secretName(b));
      }),
      { numRuns: 500 },
    );
  });
});

describe('AWS versions', () => {
  it('tokens are 32 characters and parse back', () => {
    const t = versionToken('abcdefghij', 42);
    expect(t).toBe('sgw-abcdefghij-v0000000000000042');
    expect(parseToken(t)).toEqual({ generation: 'abcdefghij', version: 42 });
    expect(parseToken('0f7c1e2a-uuid-from-someone-else')).toBeUndefined();
  });

  it('tombstone ranges round trip, split over tags of 256 characters', () => {
    expect(encodeRanges([7, 1, 2, 3, 9, 10])).toBe('1-3,7,9-10');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { maxLength: 300 }), (nums) => {
        expect([...decodeRanges(encodeRanges(nums))].sort((a, b) => a - b)).toEqual(
          [...nums].sort((a, b) => a - b),
        );
        const tags = tombstoneTags(nums);
        for (const t of tags) expect(t.Value.length).toBeLessThanOrEqual(256);
        expect([...tombstonesFrom(tags)].sort((a, b) => a - b)).toEqual([...nums].sort((a, b) => a - b));
      }),
      { numRuns: 100 },
    );
  });
});
