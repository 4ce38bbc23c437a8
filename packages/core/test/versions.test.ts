import { describe, expect, it } from 'vitest';
import {
  InvalidVersionError,
  latestLiveVersion,
  nextVersion,
  parseVersionInput,
  parseVersionText,
} from '../src/index.ts';

describe('version parsing', () => {
  it('accepts decimal strings of 1-16 digits that fit a safe integer', () => {
    expect(parseVersionText('1')).toBe(1);
    expect(parseVersionText('42')).toBe(42);
    expect(parseVersionText('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    '0',
    '01',
    '-1',
    '1.0',
    '1e3',
    ' 1',
    '1 ',
    '0x10',
    '',
    'latest',
    '12345678901234567',
    '9007199254740993',
  ])('rejects the query version %j', (text) => {
    expect(() => parseVersionText(text)).toThrow(InvalidVersionError);
  });

  it('accepts numbers and strings in a body, and nothing else', () => {
    expect(parseVersionInput(3)).toBe(3);
    expect(parseVersionInput('3')).toBe(3);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, null, true, [], {}]) {
      expect(() => parseVersionInput(bad)).toThrow(InvalidVersionError);
    }
  });
});

describe('version semantics helpers', () => {
  it('latest is the highest live version', () => {
    expect(latestLiveVersion([])).toBeUndefined();
    expect(
      latestLiveVersion([
        { version: 1, deleted: false },
        { version: 3, deleted: true },
        { version: 2, deleted: false },
      ]),
    ).toBe(2);
    expect(latestLiveVersion([{ version: 1, deleted: true }])).toBeUndefined();
  });

  it('the next version is one above the highest ever, deleted or not', () => {
    expect(nextVersion([])).toBe(1);
    expect(
      nextVersion([
        { version: 1, deleted: false },
        { version: 5, deleted: true },
      ]),
    ).toBe(6);
  });
});
