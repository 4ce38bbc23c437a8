import { describe, expect, it } from 'vitest';
import { base32, hashPath } from '../src/index.ts';

describe('hashed names', () => {
  it('encodes base32 per RFC 4648 test vectors, lower case without padding', () => {
    const enc = (s: string) => base32(Buffer.from(s));
    expect(enc('')).toBe('');
    expect(enc('f')).toBe('my');
    expect(enc('fo')).toBe('mzxq');
    expect(enc('foo')).toBe('mzxw6');
    expect(enc('foobar')).toBe('mzxw6ytboi');
  });

  it('gives a 52-character name of [a-z2-7] that differs for near-identical paths', () => {
    const a = hashPath(`tfy-secret/${'x'.repeat(900)}`);
    const b = hashPath(`tfy-secret/${'x'.repeat(899)}y`);
    expect(a).toMatch(/^[a-z2-7]{52}$/);
    expect(a).not.toBe(b);
    expect(hashPath('tfy-secret/a')).toBe(hashPath('tfy-secret/a'));
  });
});
