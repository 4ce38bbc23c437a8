import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePath, encodePath, pathOfSecret, secretId } from '../src/names.ts';

const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 40 }).map((s) => `tfy-secret/${s.join('/')}`);
/** Paths built from a tiny alphabet, so near twins (case, `_`/`-`/`.`, `/` placement) are common. */
const twinPath = fc
  .array(fc.constantFrom('a', 'A', '_', '-', '.', '/', '2', 'f', 'x'), { minLength: 1, maxLength: 12 })
  .map((cs) => `tfy-secret/${cs.join('')}`);

describe('GCP secret ids', () => {
  it('escape everything but letters, digits and -, with _ as the escape', () => {
    expect(encodePath('tfy-secret/a/B_c.d-e')).toBe('tfy-secret_2fa_2fB_5fc_2ed-e');
    expect(decodePath('tfy-secret_2fa_2fB_5fc_2ed-e')).toBe('tfy-secret/a/B_c.d-e');
    expect(secretId('tfy-secret/acme/prod/db-password')).toBe('tfy-secret_2facme_2fprod_2fdb-password');
  });

  it('are legal GCP ids, reversible, and _ only ever starts an escape', () => {
    fc.assert(
      fc.property(path, (p) => {
        const id = secretId(p);
        expect(id).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
        if (id.startsWith('_x')) {
          expect(id).toMatch(/^_x[a-z2-7]{52}$/);
          expect(encodePath(p).length).toBeGreaterThan(255);
        } else {
          expect(decodePath(id)).toBe(p);
          expect(id.replace(/_[0-9a-f]{2}/g, '')).not.toContain('_');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('are collision-free, near twins included', () => {
    for (const gen of [path, twinPath]) {
      fc.assert(
        fc.property(gen, gen, (a, b) => {
          fc.pre(a !== b);
          expect(secretId(a)).not.toBe(secretId(b));
        }),
        { numRuns: 2000 },
      );
    }
  });

  it('round-trip any string, not only legal paths (UTF-8 bytes are escaped)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        expect(decodePath(encodePath(s))).toBe(s);
        expect(encodePath(s)).toMatch(/^[A-Za-z0-9_-]*$/);
      }),
      { numRuns: 200 },
    );
  });

  it('hashed ids never collide with encoded ones, and read back through the annotation', () => {
    const long = `tfy-secret/${'a'.repeat(300)}`;
    const id = secretId(long);
    expect(id.startsWith('_x')).toBe(true);
    expect(secretId(`${long}b`)).not.toBe(id);
    // An encoded id starts with `_x` only if the path starts with a byte escaped as `_x?`: impossible.
    fc.assert(
      fc.property(path, (p) => {
        expect(encodePath(p).startsWith('_x')).toBe(false);
      }),
    );
    expect(pathOfSecret(id, { 'sgw-path': long })).toBe(long);
    expect(() => pathOfSecret(id, {})).toThrow(/sgw-path/);
    expect(() => decodePath(id)).toThrow();
  });

  it('a 1,000-byte path is hashed; a 255-character encoded id is not', () => {
    const exact = `tfy-secret/${'a'.repeat(255 - 'tfy-secret_2f'.length)}`;
    expect(secretId(exact)).toHaveLength(255);
    expect(secretId(`${exact}a`)).toMatch(/^_x/);
  });
});
