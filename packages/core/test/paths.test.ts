import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fqnToPath, InvalidPathError, parseSecretPath, pathToFqn, validateRoot } from '../src/index.ts';

function rejection(input: unknown, root?: string): string {
  try {
    parseSecretPath(input, root);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPathError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('parseSecretPath', () => {
  it('accepts paths made of the allowed characters below the root', () => {
    for (const p of [
      'tfy-secret/a',
      'tfy-secret/acme/prod/db-password',
      'tfy-secret/A_b.c-D/0',
      'tfy-secret/...x',
    ]) {
      expect(parseSecretPath(p)).toBe(p);
    }
  });

  it.each([
    [undefined, 'path must be a string'],
    [42, 'path must be a string'],
    ['', 'path must not be empty'],
    ['/tfy-secret/a', 'path must not start with "/"'],
    ['tfy-secret/a/', 'path must not end with "/"'],
    ['tfy-secret/a//b', 'path must not contain empty segments'],
    ['tfy-secret', 'path must have at least one segment below tfy-secret/'],
    ['other/a', 'path must start with tfy-secret/'],
    ['tfy-secretx/a', 'path must start with tfy-secret/'],
    ['TFY-SECRET/a', 'path must start with tfy-secret/'],
    ['tfy-secret/a/./b', 'path must not contain "." or ".." segments'],
    ['tfy-secret/..', 'path must not contain "." or ".." segments'],
    ['tfy-secret/a%2Fb', 'path must not contain percent-encoded characters'],
    ['tfy-secret/a b', 'path must use only A-Z a-z 0-9 _ - . in a segment (found " " in segment 1)'],
    ['tfy-secret/a/ü', 'path must use only A-Z a-z 0-9 _ - . in a segment (found "ü" in segment 2)'],
    ['tfy-secret/a:b', 'path must use only'],
    ['tfy-secret/a\u0000', 'path must use only'],
    ['tfy-secret/a\\b', 'path must use only'],
    [`tfy-secret/${'x'.repeat(256)}`, 'path must have segments of at most 255 characters'],
    [`tfy-secret/${'x/'.repeat(510)}x`, 'path must be at most 1024 bytes'],
  ])('rejects %j: %s', (input, message) => {
    expect(rejection(input)).toContain(message);
  });

  it('accepts a 255-character segment and a path of exactly 1024 bytes', () => {
    const seg = 'x'.repeat(255);
    expect(parseSecretPath(`tfy-secret/${seg}`)).toBe(`tfy-secret/${seg}`);
    const exact = `tfy-secret/${`${seg}/`.repeat(3)}${'y'.repeat(1024 - 11 - 256 * 3)}`;
    expect(Buffer.byteLength(exact)).toBe(1024);
    expect(parseSecretPath(exact)).toBe(exact);
    expect(rejection(`${exact}y`)).toContain('at most 1024 bytes');
  });

  it('accepts exactly what the rules of contract.md §2 accept (generated paths, several roots)', () => {
    // An oracle written from the contract's words, independent of the implementation's regexes.
    const allowed = (c: string) => /[A-Za-z0-9_.-]/.test(c);
    const valid = (p: string, root: string) => {
      if (Buffer.byteLength(p) > 1024 || !p.startsWith(`${root}/`)) return false;
      const segments = p.slice(root.length + 1).split('/');
      return segments.every(
        (s) => s.length >= 1 && s.length <= 255 && s !== '.' && s !== '..' && [...s].every(allowed),
      );
    };
    const piece = fc.constantFrom(
      'a',
      'Z',
      '0',
      '_',
      '-',
      '.',
      '..',
      '/',
      '//',
      '%2F',
      ' ',
      'ü',
      ':',
      'x'.repeat(254),
    );
    const path = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.constantFrom('tfy-secret', 'a/b'), path, fc.boolean(), (root, tail, slash) => {
        const input = `${root}${slash ? '/' : ''}${tail}`;
        let accepted: boolean;
        try {
          accepted = parseSecretPath(input, root) === input;
        } catch (error) {
          expect((error as Error).message.startsWith('path must')).toBe(true);
          accepted = false;
        }
        expect(accepted).toBe(valid(input, root));
      }),
      { numRuns: 5000 },
    );
  });

  it('every error message starts with "path must"', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (tail) => {
        try {
          parseSecretPath(`tfy-secret/${tail}`);
        } catch (error) {
          expect((error as Error).message.startsWith('path must')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('honours a configured root of several segments', () => {
    expect(parseSecretPath('org/secrets/a', 'org/secrets')).toBe('org/secrets/a');
    expect(rejection('tfy-secret/a', 'org/secrets')).toBe('path must start with org/secrets/');
    expect(() => validateRoot('/bad')).toThrow(InvalidPathError);
    expect(() => validateRoot('a b')).toThrow(InvalidPathError);
  });
});

describe('FQNs', () => {
  it('maps colons to slashes both ways', () => {
    expect(fqnToPath('acme:prod:db-password')).toBe('tfy-secret/acme/prod/db-password');
    expect(pathToFqn('tfy-secret/acme/prod/db-password')).toBe('acme:prod:db-password');
  });

  it('rejects FQNs that would make an invalid path', () => {
    expect(() => fqnToPath('')).toThrow(InvalidPathError);
    expect(() => fqnToPath('acme::x')).toThrow('empty segments');
    expect(() => fqnToPath('acme/prod')).toThrow(InvalidPathError);
    expect(() => pathToFqn('elsewhere/a')).toThrow('path must start with tfy-secret/');
  });

  it('round trips every valid FQN', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 8 }), (segments) => {
        const fqn = segments.join(':');
        expect(pathToFqn(fqnToPath(fqn))).toBe(fqn);
      }),
    );
  });
});
