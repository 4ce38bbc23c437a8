import { parse } from 'node:querystring';
import { parseSecretPath } from '@secret-gateway/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readQuery } from '../src/app.ts';

// The GET fast path reads its query with URLSearchParams; Express's routes use node:querystring.
// Both must see the same `path` and `version`, or at least agree on every path that is valid.

const valid = (p: unknown) => {
  try {
    return typeof p === 'string' && parseSecretPath(p) === p;
  } catch {
    return false;
  }
};

describe('readQuery', () => {
  it('reads path and version as node:querystring does, repeated names as arrays', () => {
    for (const q of [
      'path=tfy-secret/a/b',
      'path=tfy-secret/a/b&version=3',
      'version=3&path=tfy-secret/a',
      'path=tfy-secret%2Fa%2Fb',
      'path=tfy-secret/a%252Fb',
      'path=a&path=b',
      'path=tfy-secret/a+b',
      'path=',
      'other=1',
      '',
      'path',
      'path=tfy-secret/%E0%A4%A',
    ]) {
      const expected = parse(q);
      const got = readQuery(q);
      expect(got.path, q).toEqual(expected.path);
      expect(got.version, q).toEqual(expected.version);
    }
  });

  it('agrees with node:querystring on generated queries, at least wherever a path is valid', () => {
    const piece = fc.constantFrom(
      'path=',
      'version=',
      '&',
      '=',
      'tfy-secret/',
      'a',
      'Z_.-',
      '/',
      '%2F',
      '%2f',
      '%25',
      '+',
      '%',
      '%E0%A4',
      '%C3%BC',
      '%00',
      '1',
      ';',
      '#',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (parts) => {
        const q = parts.join('');
        const expected = parse(q);
        const got = readQuery(q);
        if (valid(expected.path) || valid(got.path)) expect(got.path).toEqual(expected.path);
        if (typeof expected.version === 'string' && /^[1-9][0-9]*$/.test(expected.version))
          expect(got.version).toEqual(expected.version);
      }),
      { numRuns: 5000 },
    );
  });
});
