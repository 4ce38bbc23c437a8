import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePath, encodePath, secretId } from '../src/names.ts';

const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,30}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 40 }).map((s) => `tfy-secret/${s.join('/')}`);

describe('GCP secret ids', () => {
  it('escapes everything but letters, digits and -, with _ never raw', () => {
    expect(encodePath('tfy-secret/a/B_c.d-e')).toBe('tfy-secret_2fa_2fB_5fc_2ed-e');
    expect(decodePath('tfy-secret_2fa_2fB_5fc_2ed-e')).toBe('tfy-secret/a/B_c.d-e');
  });

  it('are legal, reversible and collision-free for every path; long ones are hashed', () => {
    fc.assert(
      fc.property(path, path, (a, b) => {
        const id = secretId(a);
        expect(id).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
        if (!id.startsWith('_x')) expect(decodePath(id)).toBe(a);
        if (a !== b) expect(id).not.toBe(secretId(b));
      }),
      { numRuns: 1000 },
    );
  });
});
