import { describe, expect, it } from 'vitest';
import { CliError } from '../src/errors.ts';
import { mask } from '../src/mask.ts';
import { redact } from '../src/output.ts';
import { planUpdate } from '../src/plan.ts';
import { parseRef } from '../src/references.ts';
import { readSources } from '../src/sources.ts';

describe('mask', () => {
  it('shows (set) for short values and 4 characters + *** for long ones', () => {
    expect(mask('short')).toBe('(set)');
    expect(mask('elevenchars')).toBe('(set)');
    expect(mask('twelve-chars')).toBe('twel***');
    expect(mask('')).toBe('(empty)');
    expect(mask(null)).toBe('(hidden)');
  });

  it('redact masks every value field, however deep', () => {
    const secret = 'a-long-secret-value';
    const out = JSON.stringify(redact({ data: [{ value: secret, nested: { value: secret } }] }));
    expect(out).not.toContain(secret);
    expect(out).toContain('a-lo***');
  });
});

describe('planUpdate', () => {
  const existing = new Map<string, string | null>([
    ['A', 'a'],
    ['B', 'b'],
    ['C', null],
  ]);

  it('keeps keys not mentioned, sends them without value', () => {
    const plan = planUpdate(existing, new Map([['A', 'a2']]), {});
    expect(plan).toMatchObject({ changed: ['A'], kept: ['B', 'C'], removed: [], added: [] });
    expect(plan.body).toEqual([{ key: 'A', value: 'a2' }, { key: 'B' }, { key: 'C' }]);
  });

  it('deletes what --delete names and, with prune, what is not given', () => {
    expect(planUpdate(existing, new Map([['D', 'd']]), { remove: ['B'] })).toMatchObject({
      added: ['D'],
      removed: ['B'],
      kept: ['A', 'C'],
    });
    const pruned = planUpdate(existing, new Map([['A', 'a']]), { prune: true });
    expect(pruned).toMatchObject({ unchanged: ['A'], removed: ['B', 'C'] });
    expect(pruned.body).toEqual([{ key: 'A' }]);
  });

  it('treats an unreadable value as changed and refuses contradictions', () => {
    expect(planUpdate(existing, new Map([['C', 'x']]), {}).changed).toEqual(['C']);
    expect(() => planUpdate(existing, new Map([['A', 'x']]), { remove: ['A'] })).toThrow(CliError);
    expect(() => planUpdate(existing, new Map(), { remove: ['Z'] })).toThrow(/no such key/);
  });
});

describe('references and sources', () => {
  it('parses tfy-secret://tenant:group:key and rejects other shapes', () => {
    expect(parseRef('tfy-secret://acme:app:DB')).toEqual({ tenant: 'acme', group: 'app', key: 'DB' });
    expect(parseRef('acme:app:DB')).toEqual({ tenant: 'acme', group: 'app', key: 'DB' });
    for (const bad of ['tfy-secret://acme:app', 'tfy-secret://a:b:c:d', 'tfy-secret://a::c'])
      expect(parseRef(bad)).toBeUndefined();
  });

  it('takes values from env vars, refuses inline ones without repeating them', () => {
    expect(readSources({ fromEnv: ['K=MY_VAR'] }, { MY_VAR: 'v' })).toEqual(new Map([['K', 'v']]));
    expect(() => readSources({ fromEnv: ['K=UNSET_VAR'] }, {})).toThrow(
      'environment variable UNSET_VAR (for K) is not set',
    );
    for (const inline of ['K=hunter2!', 'K=p@ss word', 'K=lowercase-secret']) {
      const err = (() => {
        try {
          readSources({ fromEnv: [inline] }, {});
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err?.message).toContain('refusing what looks like an inline value for K');
      expect(err?.message).not.toContain(inline.slice(2));
    }
    expect(() => readSources({ fromEnv: ['K=A', 'K=B'] }, { A: '1', B: '2' })).toThrow(
      'key K is given more than once',
    );
  });
});
